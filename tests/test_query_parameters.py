"""Query parameters mean exactly what the schema says: declared ones only, each once, typed ones
never empty, page sizes within bounds."""

from decimal import Decimal

import pytest

from tests.factories import TranscriptionFactory

pytestmark = pytest.mark.django_db

TRANSCRIPTIONS = "/api/transcriptions/"


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("page_size=null", {"page_size": ["Give a whole number from 1 to 100."]}),
        ("page_size=0", {"page_size": ["Give a whole number from 1 to 100."]}),
        ("page_size=101", {"page_size": ["Give a whole number from 1 to 100."]}),
        ("page_size=5&page_size=6", {"page_size": ["Give this parameter once."]}),
        ("created_before=", {"created_before": ["Leave this parameter out rather than sending it empty."]}),
        ("status=", {"status": ["Leave this parameter out rather than sending it empty."]}),
        ("stauts=failed", {"stauts": ["This operation has no such parameter."]}),
    ],
)
def test_a_list_refuses_a_query_it_would_otherwise_read_wrongly(api_client, query, errors):
    response = api_client.get(f"{TRANSCRIPTIONS}?{query}")

    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid input.", "code": "invalid", "errors": errors}


def test_free_text_may_be_empty_and_a_valid_query_is_answered(api_client):
    response = api_client.get(f"{TRANSCRIPTIONS}?search=&page_size=5&ordering=-amount&status=failed")

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_an_ordering_of_several_keys_may_come_comma_separated_or_repeated(api_client, user):
    for status, amount in (("failed", "1.00"), ("completed", "3.00"), ("completed", "2.00")):
        TranscriptionFactory(user=user, status=status, amount=Decimal(amount))

    def order(query: str) -> list[tuple[str, str]]:
        response = api_client.get(f"{TRANSCRIPTIONS}?{query}")
        assert response.status_code == 200, response.json()
        return [(row["status"], row["amount"]) for row in response.json()["results"]]

    expected = [("completed", "2.00"), ("completed", "3.00"), ("failed", "1.00")]
    assert order("ordering=status,amount") == order("ordering=status&ordering=amount") == expected


def test_a_multiple_choice_filter_takes_several_values(api_client):
    response = api_client.get("/api/wallet/transactions/?type=credit&type=debit")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/api/auth/user/?verbose=1",
        "/api/wallet/details/?currency=USD",
    ],
)
def test_any_operation_refuses_a_parameter_it_does_not_declare(api_client, url):
    response = api_client.get(url)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize(
    ("url", "field"),
    [(f"{TRANSCRIPTIONS}?status=nope", "status"), ("/api/wallet/transactions/?type=nope", "type")],
)
def test_a_choice_filter_words_its_error_as_the_serializers_do(api_client, url, field):
    response = api_client.get(url)

    assert response.json()["errors"] == {field: ['"nope" is not a valid choice.']}


def test_a_missing_object_is_named_in_its_404(api_client):
    response = api_client.get(f"{TRANSCRIPTIONS}00000000-0000-0000-0000-000000000000/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Transcription not found.", "code": "not_found"}


def test_a_method_the_path_does_not_have_is_405_whatever_its_query(api_client):
    """`export_csv/` has no DELETE, though `{id}/` beside it has: the literal path answers."""
    response = api_client.delete("/api/transcriptions/export_csv/?status=completed")

    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")
