"""Inputs that once answered 500 answer a 4xx problem body naming the field (issue 14)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.integration.harness import Chorus


@pytest.fixture(scope="module")
def owner(chorus: Chorus) -> tuple[str, str]:
    _, key = chorus.workspace("Bad input")
    return key, chorus.sandbox_account(key, "bad-input")


def field_of(answer: Any) -> str:
    assert answer.headers["Content-Type"] == "application/problem+json", answer.text
    return str(answer.json()["errors"][0]["field"])


def test_a_recurrence_until_that_is_not_a_date_is_a_422_naming_it(
    chorus: Chorus, owner: tuple[str, str]
) -> None:
    key, account = owner
    answer = chorus.call(
        "POST",
        "/posts",
        key,
        json={
            "text": "weekly",
            "accounts": [account],
            "scheduled_at": "2030-01-01T09:00:00Z",
            "recurrence": {"every": 1, "unit": "week", "until": "next week"},
        },
    )
    assert answer.status_code == 422, answer.text
    assert field_of(answer) == "recurrence.until"


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("time,accounts,text\n2030-01-01T09:00:00Z,{a},Caf\xe9 cr\xe8me\n".encode("latin-1"), "encoding"),
        (b"time,accounts,text\n2030-01-01T09:00:00Z,{a},nul\x00here\n", "nul"),
    ],
    ids=["latin-1", "nul-byte"],
)
def test_a_csv_that_is_not_utf8_text_is_a_422_naming_the_body(
    chorus: Chorus, owner: tuple[str, str], raw: bytes, rule: str
) -> None:
    key, account = owner
    answer = chorus.call(
        "POST",
        "/posts/import",
        key,
        data=raw.replace(b"{a}", account.encode()),
        headers={"Content-Type": "text/csv"},
    )
    assert answer.status_code == 422, answer.text
    assert field_of(answer) == "body"
    assert answer.json()["errors"][0]["rule"] == rule
    assert chorus.call("GET", "/posts", key).json()["posts"] == []


def test_a_csv_field_over_the_csv_limit_is_a_422_naming_the_csv(
    chorus: Chorus, owner: tuple[str, str]
) -> None:
    key, account = owner
    raw = f'time,accounts,text\n2030-01-01T09:00:00Z,{account},"{"x" * 200_000}"\n'.encode()
    answer = chorus.call("POST", "/posts/import", key, data=raw, headers={"Content-Type": "text/csv"})
    assert answer.status_code == 422, answer.text
    assert field_of(answer) == "csv"


class Answers404(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<html>Not Found</html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def not_a_pds() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answers404)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_bluesky_base_url_answering_404_is_a_422_naming_base_url(
    chorus: Chorus, owner: tuple[str, str], not_a_pds: str
) -> None:
    key, _ = owner
    answer = chorus.call(
        "POST",
        "/accounts",
        key,
        json={
            "platform": "bluesky",
            "handle": "brand.example",
            "app_password": "abcd-efgh-ijkl-mnop",
            "base_url": not_a_pds,
        },
    )
    assert answer.status_code == 422, answer.text
    assert field_of(answer) == "base_url"


def test_a_bluesky_base_url_nobody_answers_is_a_422_naming_base_url(
    chorus: Chorus, owner: tuple[str, str]
) -> None:
    key, _ = owner
    with socket_bound() as port:  # bound, never listening: connections are refused
        answer = chorus.call(
            "POST",
            "/accounts",
            key,
            json={
                "platform": "bluesky",
                "handle": "brand.example",
                "app_password": "abcd-efgh-ijkl-mnop",
                "base_url": f"http://127.0.0.1:{port}",
            },
        )
    assert answer.status_code == 422, answer.text
    assert field_of(answer) == "base_url"


class socket_bound:
    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/posts", b"[]"),
        ("/posts", b"\xff\xfe"),
        ("/keys", b'{"name": "x", "role": 5}'),
        ("/saved_replies", b'{"title": "t", "text": "\\ud800 alone"}'),
    ],
    ids=["array", "not-utf8", "wrong-type", "lone-surrogate"],
)
def test_a_body_of_the_wrong_shape_is_a_4xx_naming_the_body_or_field(
    chorus: Chorus, owner: tuple[str, str], path: str, body: bytes
) -> None:
    key, _ = owner
    answer = chorus.call("POST", path, key, data=body, headers={"Content-Type": "application/json"})
    assert 400 <= answer.status_code < 500, answer.text
    assert field_of(answer) in {"body", "role"}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/listening/series?to=0001-01-01T00:00:00%2B01:00", "to"),
        ("/listening/mentions?from=0001-01-01T00:00:00Z", "from"),
        ("/listening/share-of-voice?from=0001-01-01&to=0001-01-01", "to"),
        ("/reports?from=0001-01-01", "from"),
        ("/reports?from=9999-12-30&to=9999-12-31", "to"),
        ("/calendar?from=0001-01-01T00:00:00&to=0001-01-02T00:00:00", "from"),
    ],
)
def test_a_date_at_the_end_of_the_calendar_is_a_422_naming_it(
    chorus: Chorus, owner: tuple[str, str], path: str, field: str
) -> None:
    # Given a date near year 1 or 9999, where the day before or the week after does not exist
    answer = chorus.call("GET", path, owner[0])
    # Then it is refused where it is read, not an overflow further on
    assert answer.status_code == 422, answer.text
    assert field_of(answer) == field


def test_a_post_scheduled_at_the_end_of_the_calendar_is_a_422_naming_scheduled_at(
    chorus: Chorus, owner: tuple[str, str]
) -> None:
    key, account = owner
    answer = chorus.call(
        "POST",
        "/posts",
        key,
        json={
            "text": "far",
            "accounts": [account],
            "scheduled_at": "9999-12-31T23:00:00",
            "timezone": "Etc/GMT+12",
        },
    )
    assert answer.status_code == 422, answer.text
    assert field_of(answer) == "scheduled_at"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "text": "a",
                "media": [
                    {"mime_type": "image/png", "url": "https://e.example/a.png", "alt_text": "x" * 120_000}
                ]
                * 4,
            },
            "media.0.alt_text",
        ),
        ({"text": "a", "link": "https://e.example/" + "x" * 120_000}, "link"),
        ({"text": "a", "thread": ["x" * 20_000] * 25}, "body"),
    ],
    ids=["alt-text", "link", "whole-post"],
)
def test_a_post_larger_than_one_item_can_hold_is_a_422_naming_the_field(
    chorus: Chorus, owner: tuple[str, str], body: dict[str, Any], field: str
) -> None:
    # Given a draft whose fields would make an item over DynamoDB's 400 KB (a 500 from PutItem)
    key, account = owner
    answer = chorus.call("POST", "/posts", key, json={**body, "accounts": [account], "mode": "draft"})
    # Then it is refused before it is written
    assert answer.status_code == 422, answer.text
    assert field_of(answer) == field


def test_an_account_with_an_oversized_extra_is_a_422_naming_extra(
    chorus: Chorus, owner: tuple[str, str]
) -> None:
    key, _ = owner
    extra = {f"k{i}": "v" * 1000 for i in range(500)}
    answer = chorus.call(
        "POST", "/accounts", key, json={"platform": "sandbox", "access_token": "tok-big", "extra": extra}
    )
    assert answer.status_code == 422, answer.text
    assert field_of(answer) == "extra"


def test_inbox_rules_larger_than_one_item_can_hold_are_a_422_naming_rules(
    chorus: Chorus, owner: tuple[str, str]
) -> None:
    key, _ = owner
    rules = [{"terms": [f"term{r}x{t}" + "y" * 80 for t in range(50)], "tag": "t"} for r in range(100)]
    answer = chorus.call("PUT", "/inbox/rules", key, json={"rules": rules})
    assert answer.status_code == 422, answer.text
    assert field_of(answer) == "rules"


def test_a_tag_longer_than_100_characters_is_a_422_naming_it(chorus: Chorus, owner: tuple[str, str]) -> None:
    key, _ = owner
    answer = chorus.call("POST", "/inbox/any-conversation/tags", key, json={"add": ["x" * 101]})
    assert answer.status_code == 422, answer.text
    assert field_of(answer) == "add.0"
