"""Platform HTTP answers and failures become the domain's error classes (chorus.platforms.http)."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError

from chorus.platforms.base import (
    AuthError,
    PermanentError,
    PlatformError,
    RateLimited,
    TransientError,
    UnknownOutcome,
)
from chorus.platforms.http import (
    DEFAULT_TIMEOUT,
    batched,
    bearer,
    call,
    json_body,
    parse_rate_limit_reset,
    parse_retry_after,
    raise_for_platform,
)

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
URL = "https://api.example.test/thing"


def response(status: int, body: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    resp.headers.update(headers or {})
    resp.reason = "Reason"
    return resp


def meta_error(code: int, message: str = "msg", **extra: Any) -> dict[str, Any]:
    return {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "x", **extra}}


# --- raise_for_platform -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 204, 304])
def test_success_and_redirect_statuses_raise_nothing(status: int) -> None:
    # Given a non-error status, when checked, then nothing is raised
    raise_for_platform(response(status, {}), "facebook")


def test_429_with_retry_after_seconds_is_rate_limited_for_that_long() -> None:
    # Given a 429 with Retry-After: 120
    # When checked
    # Then RateLimited carries retry_after 120 and the status
    with pytest.raises(RateLimited) as caught:
        raise_for_platform(response(429, {}, {"Retry-After": "120"}), "mastodon", now=NOW)
    assert caught.value.retry_after == 120.0
    assert caught.value.status == 429
    assert caught.value.platform == "mastodon"


def test_429_with_an_http_date_retry_after_waits_until_that_date() -> None:
    resp = response(429, {}, {"Retry-After": "Mon, 23 Nov 2026 12:05:00 GMT"})
    with pytest.raises(RateLimited) as caught:
        raise_for_platform(resp, "linkedin", now=NOW)
    assert caught.value.retry_after == 300.0


@pytest.mark.parametrize(
    ("header", "value", "wait"),
    [
        pytest.param("x-rate-limit-reset", str(int(NOW.timestamp()) + 900), 900.0, id="x-epoch-seconds"),
        pytest.param("ratelimit-reset", str(int(NOW.timestamp()) + 60), 60.0, id="bluesky-epoch-seconds"),
        pytest.param("X-RateLimit-Reset", "2026-11-23T12:10:00.000Z", 600.0, id="mastodon-iso-8601"),
    ],
)
def test_429_without_retry_after_uses_the_platform_reset_header(header: str, value: str, wait: float) -> None:
    # Given a 429 that only tells the absolute reset time
    # When checked
    # Then retry_after is the time left until that reset
    with pytest.raises(RateLimited) as caught:
        raise_for_platform(response(429, {}, {header: value}), "x", now=NOW)
    assert caught.value.retry_after == wait


def test_429_without_any_hint_is_rate_limited_with_unknown_wait() -> None:
    with pytest.raises(RateLimited) as caught:
        raise_for_platform(response(429, {"errors": [{"message": "Rate limit exceeded", "code": 88}]}), "x")
    assert caught.value.retry_after is None
    assert caught.value.message == "Rate limit exceeded"


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001])
def test_meta_throttling_codes_are_rate_limited_even_on_400(code: int) -> None:
    # Given Graph API's throttling error code on an HTTP 400
    # When checked
    # Then it is RateLimited (parked), not a permanent failure
    with pytest.raises(RateLimited) as caught:
        raise_for_platform(
            response(400, meta_error(code, "(#4) Application request limit reached")), "facebook"
        )
    assert caught.value.code == str(code)
    assert caught.value.message == "(#4) Application request limit reached"


def test_meta_business_use_case_header_gives_the_wait_in_minutes() -> None:
    # Given a BUC throttling answer whose header estimates 5 minutes to regain access
    usage = {"112233": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 5}]}
    headers = {
        "X-Business-Use-Case-Usage": json.dumps(usage),
        "X-App-Usage": '{"call_count":100,"total_cputime":20,"total_time":30}',
    }
    # When checked
    with pytest.raises(RateLimited) as caught:
        raise_for_platform(response(400, meta_error(32), headers), "facebook", now=NOW)
    # Then retry_after is 300 seconds
    assert caught.value.retry_after == 300.0


def test_meta_oauth_exception_190_is_an_auth_error_with_the_platform_message() -> None:
    body = meta_error(190, "Error validating access token: Session has expired", error_subcode=463)
    with pytest.raises(AuthError) as caught:
        raise_for_platform(response(400, body), "instagram")
    assert caught.value.message == "Error validating access token: Session has expired"
    assert caught.value.code == "190"


def test_plain_401_is_an_auth_error() -> None:
    with pytest.raises(AuthError) as caught:
        raise_for_platform(response(401, {"error": "The access token is invalid"}), "mastodon")
    assert caught.value.message == "The access token is invalid"


def test_meta_transient_error_is_retryable_not_permanent() -> None:
    body = meta_error(
        2, "An unexpected error has occurred. Please retry your request later.", is_transient=True
    )
    with pytest.raises(TransientError) as caught:
        raise_for_platform(response(400, body), "facebook")
    assert not isinstance(caught.value, RateLimited)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient(status: int) -> None:
    with pytest.raises(TransientError) as caught:
        raise_for_platform(response(status, b"<html>oops</html>", {"Retry-After": "7"}), "youtube", now=NOW)
    assert not isinstance(caught.value, RateLimited)
    assert caught.value.retry_after == 7.0
    assert caught.value.status == status


@pytest.mark.parametrize(
    ("platform", "status", "body", "message", "code"),
    [
        pytest.param(
            "facebook",
            400,
            meta_error(100, "(#100) The value must be a valid insights metric"),
            "(#100) The value must be a valid insights metric",
            "100",
            id="meta-invalid-metric",
        ),
        pytest.param(
            "bluesky",
            400,
            {"error": "InvalidRequest", "message": "uris must not have more than 25 elements"},
            "uris must not have more than 25 elements",
            "InvalidRequest",
            id="bluesky-xrpc",
        ),
        pytest.param(
            "linkedin",
            403,
            {"serviceErrorCode": 100, "message": "Not enough permissions", "status": 403},
            "Not enough permissions",
            "100",
            id="linkedin-restli",
        ),
        pytest.param(
            "x",
            403,
            {"title": "Forbidden", "detail": "You are not permitted", "type": "about:blank"},
            "You are not permitted",
            "about:blank",
            id="x-v2-problem",
        ),
        pytest.param(
            "mastodon",
            404,
            {"error": "Record not found"},
            "Record not found",
            "Record not found",
            id="mastodon-404",
        ),
        pytest.param(
            "youtube",
            403,
            {"error": {"code": 403, "message": "Forbidden", "errors": [{"reason": "forbidden"}]}},
            "Forbidden",
            "forbidden",
            id="google-forbidden",
        ),
    ],
)
def test_other_4xx_is_permanent_with_the_platform_message(
    platform: str, status: int, body: Any, message: str, code: str
) -> None:
    # Given a refusal in the platform's own error format
    # When checked
    # Then PermanentError carries the platform's wording and code, and is not an auth error
    with pytest.raises(PermanentError) as caught:
        raise_for_platform(response(status, body), platform)
    assert type(caught.value) is PermanentError
    assert (caught.value.message, caught.value.code, caught.value.status) == (message, code, status)


@pytest.mark.parametrize("reason", ["quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded"])
def test_google_quota_reasons_are_rate_limited(reason: str) -> None:
    body = {
        "error": {"code": 403, "message": "The request cannot be completed", "errors": [{"reason": reason}]}
    }
    with pytest.raises(RateLimited):
        raise_for_platform(response(403, body), "youtube")


def test_an_error_without_a_json_body_uses_the_http_reason() -> None:
    with pytest.raises(PermanentError) as caught:
        raise_for_platform(response(404, b"not json"), "x")
    assert caught.value.message == "Reason"


# --- header parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("abc", None),
        ("-5", 0.0),
        ("2.5", 2.5),
        ("Mon, 23 Nov 2026 11:00:00 GMT", 0.0),
    ],
)
def test_parse_retry_after_never_returns_a_negative_wait(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_parse_rate_limit_reset_reads_epoch_and_iso_and_ignores_garbage() -> None:
    assert parse_rate_limit_reset(str(NOW.timestamp() + 30), NOW) == 30.0
    assert parse_rate_limit_reset("2026-11-23T12:00:30+00:00", NOW) == 30.0
    assert parse_rate_limit_reset("soon", NOW) is None


# --- call ---------------------------------------------------------------------------------------------


@responses.activate
def test_call_returns_the_successful_response() -> None:
    responses.add(responses.GET, URL, json={"ok": True})
    resp = call(requests.Session(), "GET", URL, "x", params={"a": "1"})
    assert resp.json() == {"ok": True}
    assert responses.calls[0].request.url == f"{URL}?a=1"


@responses.activate
def test_call_raises_the_mapped_error_for_a_failed_response() -> None:
    responses.add(responses.GET, URL, status=429, headers={"Retry-After": "30"})
    with pytest.raises(RateLimited) as caught:
        call(requests.Session(), "GET", URL, "x")
    assert caught.value.retry_after == 30.0


class RecordingSession(requests.Session):
    def __init__(self, error: Exception | None = None) -> None:
        super().__init__()
        self.error = error
        self.kwargs: dict[str, Any] = {}

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        self.kwargs = {"method": method, "url": url, **kwargs}
        if self.error is not None:
            raise self.error
        return response(200, {})


def test_call_uses_the_default_connect_and_read_timeouts() -> None:
    session = RecordingSession()
    call(session, "get", URL, "x")
    assert session.kwargs["timeout"] == DEFAULT_TIMEOUT == (3.05, 10.0)
    assert session.kwargs["method"] == "GET"


def _refused() -> requests.ConnectionError:
    return requests.ConnectionError(MaxRetryError(None, URL, NewConnectionError(None, "Connection refused")))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "error", "expected"),
    [
        pytest.param("GET", requests.ReadTimeout("read timed out"), TransientError, id="get-read-timeout"),
        pytest.param("GET", requests.ConnectionError("reset"), TransientError, id="get-connection-reset"),
        pytest.param(
            "POST", requests.ConnectTimeout("connect timed out"), TransientError, id="post-never-connected"
        ),
        pytest.param("POST", _refused(), TransientError, id="post-connection-refused"),
        pytest.param("POST", requests.ReadTimeout("read timed out"), UnknownOutcome, id="post-read-timeout"),
        pytest.param("POST", requests.ConnectionError("reset by peer"), UnknownOutcome, id="post-dropped"),
        pytest.param("GET", requests.exceptions.InvalidURL("bad"), PermanentError, id="invalid-url"),
    ],
)
def test_call_maps_transport_failures_by_whether_the_request_may_have_landed(
    method: str, error: Exception, expected: type[Exception]
) -> None:
    # Given a transport failure
    # When the request is sent through call()
    # Then a repeatable or never-sent request is transient, a possibly-landed POST is an unknown outcome
    with pytest.raises(expected) as caught:
        call(RecordingSession(error), method, URL, "facebook")
    assert type(caught.value) is expected
    assert caught.value.platform == "facebook"  # type: ignore[attr-defined]


def test_call_can_declare_a_post_idempotent() -> None:
    with pytest.raises(TransientError) as caught:
        call(RecordingSession(requests.ReadTimeout("slow")), "POST", URL, "x", idempotent=True)
    assert type(caught.value) is TransientError


def test_json_body_treats_a_non_json_success_as_transient() -> None:
    with pytest.raises(TransientError):
        json_body(response(200, b"<html>captive portal</html>"), "x")
    assert json_body(response(200, {"a": 1}), "x") == {"a": 1}


def test_batched_keeps_order_and_respects_the_limit() -> None:
    assert list(batched(["a", "b", "c", "d", "e"], 2)) == [["a", "b"], ["c", "d"], ["e"]]
    assert list(batched([], 25)) == []
    with pytest.raises(ValueError):
        list(batched(["a"], 0))


def test_bearer_builds_the_authorization_header() -> None:
    assert bearer("tok") == {"Authorization": "Bearer tok"}


def test_a_bluesky_expired_token_on_400_is_an_auth_error() -> None:
    with pytest.raises(AuthError) as caught:
        raise_for_platform(
            response(400, {"error": "ExpiredToken", "message": "Token has expired"}), "bluesky"
        )
    assert caught.value.message == "Token has expired"


def test_a_5xx_ignores_mastodons_ever_present_rate_limit_reset_header() -> None:
    # Given a 503 from Mastodon, which sends X-RateLimit-Reset on every answer
    resp = response(503, {"error": "busy"}, {"X-RateLimit-Reset": "2026-11-23T12:05:00.000Z"})
    # When checked
    with pytest.raises(TransientError) as caught:
        raise_for_platform(resp, "mastodon", now=NOW)
    # Then no wait is taken from the quota window
    assert caught.value.retry_after is None


def test_call_takes_its_read_timeout_from_the_settings_when_given(monkeypatch: pytest.MonkeyPatch) -> None:
    from chorus.config import reset_caches

    # Given a deployment (or a fault test) that sets a short read timeout
    monkeypatch.setenv("CHORUS_HTTP_READ_TIMEOUT_S", "0.5")
    reset_caches()
    try:
        session = RecordingSession()
        # When a call names no timeout, and another names its own
        call(session, "get", URL, "x")
        default = session.kwargs["timeout"]
        call(session, "get", URL, "x", timeout=(1.0, 60.0))
        # Then the first waits 0.5 s for an answer, the second what it asked for
        assert default == (DEFAULT_TIMEOUT[0], 0.5)
        assert session.kwargs["timeout"] == (1.0, 60.0)
    finally:
        monkeypatch.delenv("CHORUS_HTTP_READ_TIMEOUT_S")
        reset_caches()


# --- unknown means verify, on a real socket (issue 13) ----------------------------------------------------


class RawServer:
    """A TCP server on 127.0.0.1 that reads one request per connection and then behaves as told:
    ``reset`` (RST), ``close`` (FIN, no answer), ``hang`` (never answers), or an HTTP status."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.requests: list[bytes] = []
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/api/v1/statuses"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + body)
                if self.behaviour == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                elif self.behaviour == "hang":
                    self.stop.wait(10)
                elif self.behaviour != "close":
                    text = json.dumps({"error": "upstream"}).encode()
                    conn.sendall(
                        f"HTTP/1.1 {self.behaviour} Oops\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(text)}\r\nConnection: close\r\n\r\n".encode()
                        + text
                    )

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[str], RawServer]]:
    servers: list[RawServer] = []

    def start(behaviour: str) -> RawServer:
        servers.append(RawServer(behaviour))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize(
    ("behaviour", "method", "expected"),
    [
        pytest.param("reset", "POST", UnknownOutcome, id="post-reset-after-send"),
        pytest.param("close", "POST", UnknownOutcome, id="post-closed-without-answer"),
        pytest.param("hang", "POST", UnknownOutcome, id="post-read-timeout"),
        pytest.param("502", "POST", UnknownOutcome, id="post-502"),
        pytest.param("504", "POST", UnknownOutcome, id="post-504"),
        pytest.param("504", "PATCH", UnknownOutcome, id="patch-504"),
        pytest.param("503", "POST", TransientError, id="post-503-refused-work"),
        pytest.param("500", "POST", TransientError, id="post-500-application-failed"),
        pytest.param("reset", "GET", TransientError, id="get-reset"),
        pytest.param("hang", "GET", TransientError, id="get-read-timeout"),
        pytest.param("502", "GET", TransientError, id="get-502"),
        pytest.param("504", "PUT", TransientError, id="put-504"),
    ],
)
def test_a_request_that_reached_the_platform_without_a_clear_answer_is_verified_not_retried(
    raw_server: Callable[[str], RawServer], behaviour: str, method: str, expected: type[Exception]
) -> None:
    # Given a platform on 127.0.0.1 that reads the request, then resets / hangs / answers a gateway error
    server = raw_server(behaviour)
    # When a request is sent through call() with a short read timeout
    with pytest.raises(PlatformError) as caught:
        call(requests.Session(), method, server.url, "mastodon", timeout=(1.0, 0.3), json={"status": "hi"})
    # Then the request did reach the server, and a non-idempotent one is an unknown outcome (verify first)
    assert len(server.requests) == 1
    assert type(caught.value) is expected
    assert caught.value.platform == "mastodon"


def test_a_refused_connection_sent_nothing_so_a_post_is_only_transient() -> None:
    # Given a port nobody listens on
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    # When a POST is sent there
    # Then it is transient: the platform cannot have acted
    with pytest.raises(TransientError) as caught:
        call(requests.Session(), "POST", f"http://127.0.0.1:{port}/x", "x", timeout=(1.0, 0.3))
    assert type(caught.value) is TransientError


def test_a_post_declared_idempotent_is_transient_after_a_504(raw_server: Callable[[str], RawServer]) -> None:
    server = raw_server("504")
    with pytest.raises(TransientError) as caught:
        call(requests.Session(), "POST", server.url, "bluesky", idempotent=True, timeout=(1.0, 0.3))
    assert type(caught.value) is TransientError


def test_the_read_timeout_of_calls_that_name_none_comes_from_the_settings(
    raw_server: Callable[[str], RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given CHORUS_HTTP_READ_TIMEOUT_S=0.2 and a platform that never answers
    from chorus.config import reset_caches

    monkeypatch.setenv("CHORUS_HTTP_READ_TIMEOUT_S", "0.2")
    reset_caches()
    server = raw_server("hang")
    asked: list[object] = []

    class Recording(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> requests.Response:
            asked.append(kwargs.get("timeout"))
            return super().request(*args, **kwargs)

    # When a POST names no timeout
    with pytest.raises(UnknownOutcome):
        call(Recording(), "POST", server.url, "x")
    # Then it was sent with the configured read timeout (and gave up on it), not the 10 s default
    assert asked == [(DEFAULT_TIMEOUT[0], 0.2)]
    monkeypatch.delenv("CHORUS_HTTP_READ_TIMEOUT_S")
    reset_caches()


# --- no secret in a message (issue 14) ---------------------------------------------------------------------

TOKEN = "tok-SECRET-c0ffee"


def test_a_transport_error_names_the_url_without_its_access_token() -> None:
    # Given a Graph read with the token in its query string, on a port nobody listens on
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v19.0/me"
    # When it fails to connect
    with pytest.raises(TransientError) as caught:
        call(requests.Session(), "GET", url, "facebook", params={"access_token": TOKEN}, timeout=(1.0, 0.3))
    # Then the message says where, but not the token, and no chained exception carries it either
    assert "/v19.0/me?access_token=REDACTED" in caught.value.message
    assert TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


@responses.activate
def test_a_platform_error_echoing_the_request_url_is_redacted() -> None:
    # Given a platform whose error message echoes the URL with ?access_token=
    echoed = f"Invalid request https://graph.example/v19.0/me?fields=id&access_token={TOKEN}"
    responses.add(responses.GET, URL, status=400, json={"error": {"message": echoed, "code": 100}})
    # When called
    with pytest.raises(PermanentError) as caught:
        call(requests.Session(), "GET", URL, "facebook", params={"access_token": TOKEN})
    # Then the message keeps the platform's wording and drops the token
    assert (
        caught.value.message
        == "Invalid request https://graph.example/v19.0/me?fields=id&access_token=REDACTED"
    )
