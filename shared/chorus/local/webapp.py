"""The web app on 127.0.0.1, as CloudFront serves it in AWS: the built files of ``web/dist``, the
runtime config ``/config.json``, and the HTTP API under ``/api`` on the same origin (CloudFront's ``/api/*``
behaviour does the same in AWS), so the browser needs no CORS for the API.

The user pool's endpoint is passed on under ``/cognito`` too: moto answers a CORS preflight (an OPTIONS
without ``X-Amz-Target``) with a 500, where AWS's Cognito endpoint answers it.

Sign-up plays the user pool's e-mail: moto sends no confirmation code, confirms any code and has no
ResendConfirmationCode. Here a SignUp that moto accepted (and a ResendConfirmationCode for it, answered
here) gets a six-digit code, printed on the runtime's console (``make dev``: "local user pool:
confirmation code for ...") and kept in ``WebApp.confirmation_codes``; a ConfirmSignUp with another code
is refused as Cognito refuses it (``CodeMismatchException``), and a confirmed person's e-mail is marked
verified, as Cognito does for the pool's ``AutoVerifiedAttributes``.

A path that is no file of the build answers ``index.html`` (the app routes in the browser); hashed files
under ``/assets/`` may be cached for a year. Before ``make web`` has built the app, every page answers 503
saying so."""

from __future__ import annotations

import json
import mimetypes
import secrets
import sys
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chorus.local.gateways import Handle, serve_http

API_PREFIX = "/api"
COGNITO_PREFIX = "/cognito"
IMMUTABLE = "public, max-age=31536000, immutable"


def web_config(ws_url: str, region: str, user_pool_id: str, client_id: str) -> dict[str, str]:
    """The app's ``/config.json`` (web/src/session.js reads it): the API under ``/api`` of the app's own
    origin, the WebSocket, the user pool. Served here locally; written to the bucket by ``make deploy``."""
    return {
        "api_url": API_PREFIX,
        "ws_url": ws_url,
        "region": region,
        "user_pool_id": user_pool_id,
        "client_id": client_id,
    }


class WebApp:
    def __init__(self, dist: Path, api: Handle, config: dict[str, Any], cognito: str) -> None:
        self.dist = dist.resolve()
        self.api = api
        self.config = {**config, "cognito_endpoint": COGNITO_PREFIX}
        self.cognito = cognito  # the moto server playing the user pool (http://127.0.0.1:port)
        self.confirmation_codes: dict[str, str] = {}  # e-mail (lower case) -> the code "sent" to it
        self.server: ThreadingHTTPServer | None = None

    def answer(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        path = urlsplit(raw_path).path
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            return self.api(method, raw_path[len(API_PREFIX) :] or "/", headers, body)
        if path == COGNITO_PREFIX and method == "POST":
            return self.to_cognito(headers, body)
        if method not in {"GET", "HEAD"}:
            return 405, {"Content-Type": "text/plain", "Allow": "GET, HEAD"}, b"method not allowed\n"
        if path == "/config.json":
            data = json.dumps(self.config).encode()
            return 200, {"Content-Type": "application/json", "Cache-Control": "no-cache"}, data
        index = self.dist / "index.html"
        if not index.is_file():
            return 503, {"Content-Type": "text/plain"}, b"the web app is not built: run `make web`\n"
        target = (self.dist / path.lstrip("/")).resolve()
        if not target.is_file() or not target.is_relative_to(self.dist):
            target = index
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        cache = IMMUTABLE if target.parent.name == "assets" else "no-cache"
        return 200, {"Content-Type": kind, "Cache-Control": cache}, target.read_bytes()

    def to_cognito(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        """One call of the pool's JSON API (``X-Amz-Target`` names it), passed on to moto; sign-up's
        confirmation code played here (see the module's docstring)."""
        sent = {k: v for k, v in headers.items() if k.lower() in {"content-type", "x-amz-target"}}
        action = next((v for k, v in sent.items() if k.lower() == "x-amz-target"), "").rsplit(".", 1)[-1]
        try:
            asked = json.loads(body or b"{}")
            user = str(asked.get("Username", "")).strip().lower()
        except (ValueError, AttributeError):
            asked, user = {}, ""
        expected = self.confirmation_codes.get(user) if action == "ConfirmSignUp" else None
        if expected and str(asked.get("ConfirmationCode", "")).strip() != expected:
            refusal = {"__type": "CodeMismatchException", "message": "Invalid verification code provided, please try again."}  # fmt: skip
            return 400, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(refusal).encode()
        if action == "ResendConfirmationCode" and user in self.confirmation_codes:  # moto has no such call
            status, answer_headers = 200, {"Content-Type": "application/x-amz-json-1.1"}
            delivery = {"Destination": user, "DeliveryMedium": "EMAIL", "AttributeName": "email"}
            data = json.dumps({"CodeDeliveryDetails": delivery}).encode()
        else:
            status, answer_headers, data = self.pass_on(sent, body)
        if status == 200 and action in {"SignUp", "ResendConfirmationCode"} and user:
            code = f"{secrets.randbelow(1_000_000):06d}"
            self.confirmation_codes[user] = code
            print(f"local user pool: confirmation code for {user} is {code} (no e-mail is sent locally)",
                  file=sys.stderr, flush=True)  # fmt: skip
        elif status == 200 and expected:
            del self.confirmation_codes[user]
            self.verify_email(user)
        return status, answer_headers, data

    def verify_email(self, user: str) -> None:
        """``email_verified`` set, as Cognito does when a sign-up is confirmed (AutoVerifiedAttributes)."""
        region = self.config.get("region", "us-east-1")
        sent = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.AdminUpdateUserAttributes",
            # moto reads the region from the credential scope; it checks no signature
            "Authorization": f"AWS4-HMAC-SHA256 Credential=local/20260101/{region}/cognito-idp/aws4_request, "
            "SignedHeaders=host, Signature=local",
        }
        attributes = [{"Name": "email_verified", "Value": "true"}]
        asked = {
            "UserPoolId": self.config.get("user_pool_id"),
            "Username": user,
            "UserAttributes": attributes,
        }
        self.pass_on(sent, json.dumps(asked).encode())

    def pass_on(self, sent: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.cognito + "/", body, sent, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - 127.0.0.1 only
                status, data, kind = answer.status, answer.read(), answer.headers.get("Content-Type")
        except urllib.error.HTTPError as refused:
            status, data, kind = refused.code, refused.read(), refused.headers.get("Content-Type")
        return status, {"Content-Type": kind or "application/x-amz-json-1.1"}, data

    def start(self, port: int = 0) -> int:
        self.server = serve_http(self.answer, "chorus-web", port)
        return int(self.server.server_address[1])

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
