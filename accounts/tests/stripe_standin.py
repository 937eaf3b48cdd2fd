"""A small local stand-in for the few Stripe endpoints TicketRemaster uses, for tests and the offline demo.

The machines here cannot reach Stripe, so the real ``stripe`` library is pointed at this server through
``STRIPE_API_BASE``. It answers::

    POST /v1/checkout/sessions          create a Checkout Session (honours Idempotency-Key)
    GET  /v1/checkout/sessions/<id>     read it back
    POST /v1/refunds                    refund part of a paid payment intent (never more than it brought in)
    GET  /pay/<session id>              the "hosted payment page": Pay / Decline buttons
    POST /pay/<session id>              pay (or decline): delivers the signed webhook to ``webhook_url``, then
                                        redirects to the session's success_url (or cancel_url)

Webhook events carry real Stripe signatures (``Stripe-Signature: t=<unix>,v1=<HMAC-SHA256 of "t.body">`` with the
endpoint secret), so ``stripe.Webhook.construct_event`` verifies them exactly as it verifies Stripe's.

Run it on its own for the demo::

    python -m accounts.tests.stripe_standin --port 12111 --secret whsec_demo \\
        --webhook http://127.0.0.1:8000/api/v1/payments/stripe/webhook/
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

API_VERSION = "2026-01-28.clover"


def signature_header(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe sends for ``payload``."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def event_body(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> bytes:
    event = {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": obj},
    }
    return json.dumps(event).encode()


class StripeStandIn:
    """The server and its state (sessions, payment intents, refunds). Thread-safe; start() runs it on a thread."""

    def __init__(self, *, secret: str, webhook_url: str = "", host: str = "127.0.0.1", port: int = 0):
        self.secret = secret
        self.webhook_url = webhook_url
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, tuple[int, dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.refuse_refunds = False
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StripeStandIn:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- The API ------------------------------------------------------------------------------------------------

    def create_session(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        unit = int(form.get("line_items[0][price_data][unit_amount]", "0"))
        quantity = int(form.get("line_items[0][quantity]", "1"))
        if unit <= 0:
            return 400, _error("invalid_request_error", "line_items[0][price_data][unit_amount] must be positive")
        session_id = f"cs_test_{secrets.token_hex(16)}"
        metadata = {k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")}
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": form.get("mode", "payment"),
            "amount_total": unit * quantity,
            "currency": form.get("line_items[0][price_data][currency]", "eur"),
            "client_reference_id": form.get("client_reference_id"),
            "customer_email": form.get("customer_email"),
            "metadata": metadata,
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": form.get("success_url"),
            "cancel_url": form.get("cancel_url"),
            "url": f"{self.url}/pay/{session_id}",
            "livemode": False,
        }
        self.sessions[session_id] = session
        return 200, session

    def create_refund(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None:
            return 400, _error("invalid_request_error", "No such payment_intent", param="payment_intent")
        amount = int(form.get("amount", intent["amount"] - intent["amount_refunded"]))
        if self.refuse_refunds:
            return 402, _error("card_error", "The card issuer refused the refund.", code="refund_declined")
        if amount <= 0 or intent["amount_refunded"] + amount > intent["amount"]:
            return 400, _error("invalid_request_error", "Refund amount is greater than unrefunded amount", "amount")
        intent["amount_refunded"] += amount
        refund = {
            "id": f"re_{secrets.token_hex(12)}",
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "status": "succeeded",
            "metadata": {k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")},
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    # --- What the buyer and Stripe do ---------------------------------------------------------------------------

    def pay(self, session_id: str, *, asynchronous: bool = False) -> dict[str, Any]:
        """The buyer pays on the hosted page; returns the session as the completion event carries it."""
        with self._lock:
            session = self.sessions[session_id]
            intent_id = f"pi_{secrets.token_hex(12)}"
            self.intents[intent_id] = {
                "id": intent_id,
                "amount": session["amount_total"],
                "amount_refunded": 0,
                "currency": session["currency"],
                "latest_charge": f"ch_{secrets.token_hex(12)}",
            }
            session.update(
                status="complete", payment_intent=intent_id, payment_status="unpaid" if asynchronous else "paid"
            )
            return dict(session)

    def settle_async(self, session_id: str, *, succeeded: bool) -> dict[str, Any]:
        with self._lock:
            session = self.sessions[session_id]
            session["payment_status"] = "paid" if succeeded else "unpaid"
            return dict(session)

    def expire(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="expired")
            return dict(session)

    def signed_event(self, event_type: str, obj: dict[str, Any], *, event_id: str | None = None, timestamp=None):
        """(body, Stripe-Signature header) of an event as Stripe would deliver it."""
        body = event_body(event_type, obj, event_id=event_id)
        return body, signature_header(body, self.secret, timestamp=timestamp)

    def deliver(self, event_type: str, obj: dict[str, Any]) -> int:
        """POST the signed event to ``webhook_url`` over HTTP, the way Stripe does; returns the status code."""
        body, header = self.signed_event(event_type, obj)
        request = urllib.request.Request(  # noqa: S310 - a URL the operator configured
            self.webhook_url,
            data=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code


def _error(kind: str, message: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "message": message}
    if param:
        error["param"] = param
    if code:
        error["code"] = code
    return {"error": error}


def _handler_for(standin: StripeStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            return

        def _send(self, status: int, body: bytes, content_type: str = "application/json", headers=None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Request-Id", f"req_{secrets.token_hex(8)}")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length") or 0)
            return dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))

        def _authorized(self) -> bool:
            if self.headers.get("Authorization", "").startswith("Bearer sk_"):
                return True
            self._send(401, json.dumps(_error("invalid_request_error", "Invalid API Key provided")).encode())
            return False

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = urlparse(self.path).path
            standin.requests.append(("GET", path))
            if path.startswith("/v1/checkout/sessions/"):
                if not self._authorized():
                    return
                session = standin.sessions.get(path.rsplit("/", 1)[-1])
                if session is None:
                    self._send(404, json.dumps(_error("invalid_request_error", "No such checkout.session")).encode())
                else:
                    self._send(200, json.dumps(session).encode())
            elif path.startswith("/pay/") and (session := standin.sessions.get(path[len("/pay/") :])):
                amount = session["amount_total"] / 100
                page = (
                    "<!doctype html><html><head><meta name='viewport' content='width=device-width'>"
                    "<title>Stripe stand-in</title></head><body><h1>Stripe stand-in checkout</h1>"
                    f"<p>Pay <strong>{amount:.2f} {html.escape(session['currency'].upper())}</strong></p>"
                    "<form method='post'><button name='action' value='pay'>Pay</button> "
                    "<button name='action' value='decline'>Decline</button></form></body></html>"
                )
                self._send(200, page.encode(), "text/html; charset=utf-8")
            else:
                self._send(404, json.dumps(_error("invalid_request_error", "Unrecognized request URL")).encode())

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            path = urlparse(self.path).path
            standin.requests.append(("POST", path))
            if path.startswith("/pay/") and (session_id := path[len("/pay/") :]) in standin.sessions:
                action = self._form().get("action", "pay")
                session = standin.sessions[session_id]
                if action == "pay":
                    standin.deliver("checkout.session.completed", standin.pay(session_id))
                    target = session["success_url"]
                else:
                    standin.deliver("checkout.session.expired", standin.expire(session_id))
                    target = session["cancel_url"]
                self._send(303, b"", "text/plain", headers={"Location": target})
                return
            if not self._authorized():
                return
            form = self._form()
            key = self.headers.get("Idempotency-Key")
            with standin._lock:
                if key and key in standin.idempotent:
                    status, body = standin.idempotent[key]
                elif path == "/v1/checkout/sessions":
                    status, body = standin.create_session(form)
                elif path == "/v1/refunds":
                    status, body = standin.create_refund(form)
                else:
                    status, body = 404, _error("invalid_request_error", "Unrecognized request URL")
                if key and status < 500:
                    standin.idempotent[key] = (status, body)
            self._send(status, json.dumps(body).encode())

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--secret", default="whsec_demo", help="the webhook signing secret (STRIPE_WEBHOOK_SECRET)")
    parser.add_argument("--webhook", default="http://127.0.0.1:8000/api/v1/payments/stripe/webhook/")
    args = parser.parse_args()
    standin = StripeStandIn(secret=args.secret, webhook_url=args.webhook, port=args.port)
    print(f"Stripe stand-in on {standin.url} (STRIPE_API_BASE={standin.url}); webhooks to {args.webhook}")  # noqa: T201
    standin._server.serve_forever()


if __name__ == "__main__":
    main()
