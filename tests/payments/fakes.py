"""Razorpay as its HTTP API and its signatures look, for tests: real HMAC-SHA256 with test secrets."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importable without Django settings, by the soak's driver
    from django.test import Client
    from rest_framework.test import APIClient

BASE_URL = "https://api.razorpay.test"
KEY_ID = "rzp_test_1DP5mmOlF5G5ag"
KEY_SECRET = "test_key_secret_thisisnotreal"
WEBHOOK_SECRET = "test_webhook_secret_thisisnotreal"
WEBHOOK_URL = "/api/payments/webhook/"


def sign(message: str | bytes, secret: str) -> str:
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def checkout_signature(order_id: str, payment_id: str, secret: str = KEY_SECRET) -> str:
    return sign(f"{order_id}|{payment_id}", secret)


def new_payment_id() -> str:
    return f"pay_{uuid.uuid4().hex[:14]}"


def payment_entity(
    *, payment_id: str, order_id: str | None, amount_paise: int, status: str = "captured", currency: str = "INR"
) -> dict:
    return {
        "id": payment_id,
        "entity": "payment",
        "amount": amount_paise,
        "currency": currency,
        "status": status,
        "order_id": order_id,
        "method": "upi",
        "captured": status == "captured",
        "error_code": "BAD_REQUEST_ERROR" if status == "failed" else None,
        "error_description": "Payment was cancelled by the customer." if status == "failed" else None,
        "created_at": 1764000000,
    }


def webhook_event(event: str, entity: dict) -> dict:
    payload = {"payment": {"entity": entity}}
    if event == "order.paid":
        payload["order"] = {
            "entity": {"id": entity["order_id"], "entity": "order", "amount": entity["amount"], "status": "paid"}
        }
    return {
        "entity": "event",
        "account_id": "acc_test",
        "event": event,
        "contains": list(payload),
        "payload": payload,
        "created_at": 1764000000,
    }


def refund_entity(
    *, refund_id: str, payment_id: str, amount_paise: int, status: str = "processed", local_id: str | None = None
) -> dict:
    """A refund as Razorpay shows it; `local_id` is our refund's id, sent as receipt and note when we asked for it."""
    return {
        "id": refund_id,
        "entity": "refund",
        "amount": amount_paise,
        "currency": "INR",
        "payment_id": payment_id,
        "notes": {"refund_id": local_id} if local_id else [],
        "receipt": local_id,
        "status": status,
        "speed_processed": "normal",
        "created_at": 1764000000,
    }


def refund_event(event: str, refund: dict) -> dict:
    return {
        "entity": "event",
        "account_id": "acc_test",
        "event": event,
        "contains": ["refund", "payment"],
        "payload": {"refund": {"entity": refund}},
        "created_at": 1764000000,
    }


def new_refund_id() -> str:
    return f"rfnd_{uuid.uuid4().hex[:14]}"


def post_webhook(
    client: Client | APIClient,
    event: dict | bytes,
    *,
    event_id: str | None = None,
    signature: str | None = None,
    secret: str = WEBHOOK_SECRET,
):
    """POST a webhook as Razorpay does: raw JSON body, signed unless `signature` says otherwise."""
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    headers = {"HTTP_X_RAZORPAY_SIGNATURE": sign(body, secret) if signature is None else signature}
    if event_id is not None:
        headers["HTTP_X_RAZORPAY_EVENT_ID"] = event_id
    return client.post(WEBHOOK_URL, data=body, content_type="application/json", **headers)


def verify_body(order_id: str, payment_id: str, signature: str | None = None) -> dict:
    return {
        "razorpay_order_id": order_id,
        "razorpay_payment_id": payment_id,
        "razorpay_signature": checkout_signature(order_id, payment_id) if signature is None else signature,
    }


class FakeRazorpay:
    """Razorpay's order API: `POST /v1/orders` creates an order for the asked amount."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                order = {
                    "id": f"order_{uuid.uuid4().hex[:14]}",
                    "entity": "order",
                    "amount": body["amount"],
                    "currency": body["currency"],
                    "receipt": body.get("receipt"),
                    "status": "created",
                }
                payload = json.dumps(order).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
