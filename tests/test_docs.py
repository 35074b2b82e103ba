"""The API docs work on a machine without internet: every asset comes from the server itself."""

import re
from urllib.parse import urljoin

import pytest
import requests


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_page_and_everything_it_loads_come_from_the_server(live_server, page):
    html = requests.get(live_server.url + page, timeout=10)
    references = re.findall(r'(?:src|href|spec-url)="([^"]+)"', html.text)

    assert html.status_code == 200
    assert "/api/schema/" in html.text
    assert references
    assert not re.search(r"https?://(?!localhost|127\.0\.0\.1)", html.text), "the page names an outside host"
    for reference in references:
        url = urljoin(live_server.url + page, reference)
        assert url.startswith(live_server.url), reference
        assert requests.get(url, timeout=10).status_code == 200, url


def test_the_schema_the_docs_load_is_served(live_server):
    schema = requests.get(f"{live_server.url}/api/schema/", timeout=10)

    assert schema.status_code == 200
    assert schema.text.startswith("openapi: 3")
