"""Google and Facebook, faked at the HTTP layer with `responses` (allauth calls them through `requests`).

Google's ID tokens are real RS256 JWTs signed by a key whose self-signed certificate is served at
Google's certs URL; Facebook's Graph API answers debug_token and /me as it does for real tokens.
"""

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import responses
from allauth.socialaccount.providers.facebook.constants import GRAPH_API_URL
from allauth.socialaccount.providers.google.views import CERTS_URL, IDENTITY_URL
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.cache import cache
from responses import matchers

from accounts.social import GOOGLE_TOKENINFO_URL

GOOGLE_CLIENT_ID = "1234-spa.apps.googleusercontent.com"
FACEBOOK_APP_ID = "987654321"
FACEBOOK_APP_SECRET = "facebook-app-secret"
FACEBOOK_APP_TOKEN = "987654321|app-token"

GOOGLE_LOGIN_URL = "/api/auth/google/login/"
FACEBOOK_LOGIN_URL = "/api/auth/facebook/login/"


@pytest.fixture(autouse=True)
def _empty_cache():
    # Throttle counters, Google's used `jti`s and Facebook's app token all live in the cache.
    cache.clear()


@pytest.fixture
def rsps():
    """Every outgoing `requests` call is answered here; one nobody registered fails to connect."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    certificate_pem: str


def _signing_key(kid: str) -> SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.google.com")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return SigningKey(kid, key, certificate.public_bytes(serialization.Encoding.PEM).decode())


@pytest.fixture(scope="session")
def google_key() -> SigningKey:
    return _signing_key("google-kid-1")


@pytest.fixture(scope="session")
def foreign_key() -> SigningKey:
    """Another key claiming Google's kid: what a forger would sign with."""
    return _signing_key("google-kid-1")


class FakeGoogle:
    def __init__(self, rsps: responses.RequestsMock, key: SigningKey) -> None:
        self.rsps = rsps
        self.key = key

    def id_token(self, *, signing_key: SigningKey | None = None, **overrides) -> str:
        """A Google ID token; a claim overridden with None is left out."""
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "azp": GOOGLE_CLIENT_ID,
            "aud": GOOGLE_CLIENT_ID,
            "sub": "110169484474386276334",
            "email": "ada@example.com",
            "email_verified": True,
            "name": "Ada Lovelace",
            "given_name": "Ada",
            "family_name": "Lovelace",
            "iat": now,
            "exp": now + 3600,
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        key = signing_key or self.key
        return jwt.encode(
            {k: v for k, v in claims.items() if v is not None},
            key.private_key,
            algorithm="RS256",
            headers={"kid": key.kid},
        )

    def accept_access_token(self, token: str, *, aud: str = GOOGLE_CLIENT_ID, **profile) -> None:
        self.rsps.get(
            GOOGLE_TOKENINFO_URL,
            match=[matchers.query_param_matcher({"access_token": token})],
            json={"aud": aud, "azp": aud, "sub": "110169484474386276334", "scope": "openid email profile"},
        )
        self.rsps.get(
            IDENTITY_URL,
            match=[matchers.header_matcher({"Authorization": f"Bearer {token}"})],
            json={
                "id": "110169484474386276334",
                "email": "ada@example.com",
                "verified_email": True,
                "name": "Ada Lovelace",
                "given_name": "Ada",
                "family_name": "Lovelace",
                **profile,
            },
        )


@pytest.fixture
def google(rsps, google_key, settings) -> FakeGoogle:
    settings.GOOGLE_CLIENT_ID = GOOGLE_CLIENT_ID
    rsps.get(CERTS_URL, json={google_key.kid: google_key.certificate_pem})
    return FakeGoogle(rsps, google_key)


class FakeFacebook:
    app_token_url = f"{GRAPH_API_URL}/oauth/access_token"
    debug_token_url = f"{GRAPH_API_URL}/debug_token"
    me_url = f"{GRAPH_API_URL}/me"

    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.rsps = rsps

    def serve_app_token(self) -> None:
        self.rsps.get(
            self.app_token_url,
            match=[
                matchers.query_param_matcher(
                    {
                        "client_id": FACEBOOK_APP_ID,
                        "client_secret": FACEBOOK_APP_SECRET,
                        "grant_type": "client_credentials",
                    }
                )
            ],
            json={"access_token": FACEBOOK_APP_TOKEN, "token_type": "bearer"},
        )

    def debug_token(self, token: str, **data) -> None:
        self.rsps.get(
            self.debug_token_url,
            match=[matchers.query_param_matcher({"input_token": token, "access_token": FACEBOOK_APP_TOKEN})],
            json={"data": {"app_id": FACEBOOK_APP_ID, "type": "USER", "is_valid": True, **data}},
        )

    def me(self, token: str, **profile) -> None:
        proof = hmac.new(FACEBOOK_APP_SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()
        self.rsps.get(
            self.me_url,
            match=[matchers.query_param_matcher({"access_token": token, "appsecret_proof": proof}, strict_match=False)],
            json={
                "id": "10228000000000001",
                "email": "grace@example.com",
                "name": "Grace Hopper",
                "first_name": "Grace",
                "last_name": "Hopper",
                **profile,
            },
        )

    def accept(self, token: str, **profile) -> None:
        self.debug_token(token, user_id=profile.get("id", "10228000000000001"))
        self.me(token, **profile)


@pytest.fixture
def facebook(rsps, settings) -> FakeFacebook:
    settings.FACEBOOK_APP_ID = FACEBOOK_APP_ID
    settings.FACEBOOK_APP_SECRET = FACEBOOK_APP_SECRET
    fake = FakeFacebook(rsps)
    fake.serve_app_token()
    return fake
