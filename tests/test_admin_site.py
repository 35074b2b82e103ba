"""The admin as a whole: named for the product, one section per name, and a superuser made as
Django documents it (`createsuperuser --noinput` with DJANGO_SUPERUSER_* from the environment)."""

import re

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("admin@example.com", "pw-admin-1"))
    return client


def test_the_index_names_the_product_and_each_section_once(admin_client):
    page = admin_client.get("/admin/").content.decode()

    sections = re.findall(r'<caption>\s*<a [^>]*class="section"[^>]*>([^<]+)</a>', page)
    assert len(sections) == len(set(sections)), sections
    assert {"Users", "Wallet", "Audio", "Transcriptions", "Payments", "Webhooks"} <= set(sections)
    assert "<title>Operations | Transcription admin</title>" in page
    assert 'href="/api/docs/"' in page  # "View site"


def test_createsuperuser_takes_its_email_and_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Boss@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "pw-boss-123")

    call_command("createsuperuser", "--noinput", verbosity=0)

    boss = User.objects.get(email="boss@example.com")
    assert boss.is_superuser and boss.is_staff and boss.check_password("pw-boss-123")
    assert boss.wallet.demo_minutes_remaining >= 0  # made like every user, with its wallet
