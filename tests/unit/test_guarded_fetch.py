"""The guarded fetcher (chorus.net.fetch): one door for every URL fetched on a user's behalf.

A real HTTP server on 127.0.0.1 plays the remote host; a resolver stub decides what each name resolves
to, so "a public name that resolves to a private address" is played without any DNS.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from chorus.errors import ChorusError, ValidationFailed
from chorus.net.fetch import (
    Guard,
    GuardedSession,
    TooLarge,
    UrlRefused,
    address_problem,
    checked_url,
    fetch,
    guarded_session,
)
from chorus.platforms.base import PermanentError, TransientError
from chorus.platforms.http import call

PNG = b"\x89PNG\r\n\x1a\n" + b"x" * 1000


class Remote(BaseHTTPRequestHandler):
    """``/media`` a small file; ``/big`` 1 MB with its length; ``/stream`` 1 MB chunked, no length;
    ``/drip`` a byte at a time until the client leaves; ``/to?u=URL`` a 302 to URL; ``/loop`` a 302
    to itself."""

    protocol_version = "HTTP/1.1"
    stop = threading.Event()
    hits: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        Remote.hits.append(self.path)
        if self.path == "/media":
            self._send(200, PNG, {"Content-Type": "image/png"})
        elif self.path == "/big":
            self._send(200, b"x" * 1_000_000)
        elif self.path.startswith("/to?u="):
            self._send(302, b"", {"Location": self.path.split("=", 1)[1]})
        elif self.path == "/loop":
            self._send(302, b"", {"Location": "/loop"})
        elif self.path == "/stream":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(16):
                chunk = b"y" * 65536
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                while not Remote.stop.wait(0.05):
                    self.wfile.write(b"z")
                    self.wfile.flush()
            except OSError:
                return
        else:
            self._send(404, b"{}")

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def remote() -> Iterator[int]:
    Remote.stop.clear()
    Remote.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Remote)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    Remote.stop.set()
    server.shutdown()
    server.server_close()


class Names:
    """A resolver stub: each name resolves to the addresses given; it records every lookup."""

    def __init__(self, **names: str) -> None:
        self.names = {name.replace("_", "."): value.split(",") for name, value in names.items()}
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return self.names.get(host, [])


# --------------------------------------------------------------------------------- address classes


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",
        "169.254.10.10",
        "fd00:ec2::254",
        "100.64.0.1",
        "0.0.0.0",
        "::",
        "::1",
        "224.0.0.251",
        "ff02::1",
        "fe80::1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",
        "2002:0a00:0001::1",
        "240.0.0.1",
    ],
)
def test_every_non_public_address_class_is_refused_in_aws_mode(address: str) -> None:
    # Given an address of a class decision 14 closes
    # When judged for AWS mode
    # Then a reason is given
    assert address_problem(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "1.1.1.1"])
def test_public_addresses_are_accepted(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


def test_the_embedded_runtime_accepts_loopback_but_never_the_metadata_service_or_private_ranges() -> None:
    assert address_problem(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert address_problem(ipaddress.ip_address("::1"), allow_loopback=True) is None
    assert address_problem(ipaddress.ip_address("169.254.169.254"), allow_loopback=True) is not None
    assert address_problem(ipaddress.ip_address("10.0.0.1"), allow_loopback=True) is not None


# --------------------------------------------------------------------------------- input-time checks


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("http://cdn.example/a.png", "https"),
        ("ftp://cdn.example/a.png", "https"),
        ("file:///etc/passwd", "https"),
        ("https://user:pw@cdn.example/a.png", "user name"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://10.0.0.1/a.png", "private"),
        ("https://[::1]/a.png", "loopback"),
        ("https:///a.png", "no host"),
        ("https://cdn.example:99999/a.png", "valid URL"),
    ],
)
def test_a_url_that_can_never_be_fetched_is_a_422_naming_the_field(value: str, why: str) -> None:
    # Given a URL a user typed into a media_url field
    # When checked at input time in AWS mode
    # Then a 422 names the field and says why
    with pytest.raises(ValidationFailed) as caught:
        checked_url(value, "media_url", local=False)
    assert caught.value.status == 422
    assert caught.value.errors[0].field == "media_url"
    assert why in caught.value.errors[0].message


def test_http_and_loopback_are_accepted_at_input_on_the_embedded_runtime_only() -> None:
    assert checked_url(" http://127.0.0.1:4566/bucket/a.png ", "media_url", local=True).startswith("http://")
    with pytest.raises(ValidationFailed):
        checked_url("http://127.0.0.1:4566/bucket/a.png", "media_url", local=False)


# --------------------------------------------------------------------------------- fetching


def test_a_public_name_is_fetched_over_a_connection_to_the_checked_address(remote: int) -> None:
    # Given a name that resolves (stub) to the server's loopback address, on the embedded runtime
    names = Names(media_example="127.0.0.1")
    # When fetched
    got = fetch(f"http://media.example:{remote}/media", guard=Guard(local=True, resolver=names))
    # Then the bytes arrive, and the name was resolved once: the address checked is the one connected to
    assert got.content == PNG
    assert got.content_type == "image/png"
    assert names.lookups == ["media.example"]


def test_a_name_resolving_to_a_private_address_is_refused_before_any_connection(remote: int) -> None:
    # Given, in AWS mode, a public-looking name that resolves to a private address (and a public one)
    names = Names(cdn_example="93.184.216.34,10.0.0.7")
    # When fetched
    with pytest.raises(UrlRefused) as caught:
        fetch("https://cdn.example/a.png", field_name="media_url", guard=Guard(resolver=names))
    # Then it is refused as a permanent error naming the field and the address class
    assert isinstance(caught.value, PermanentError)
    assert caught.value.field == "media_url"
    assert "private address" in caught.value.message
    assert caught.value.message.startswith("media_url:")


def test_loopback_is_refused_in_aws_mode_even_when_a_server_listens_there(remote: int) -> None:
    names = Names(media_example="127.0.0.1")
    with pytest.raises(UrlRefused, match="loopback"):
        fetch(f"https://media.example:{remote}/media", guard=Guard(resolver=names))
    assert Remote.hits == []


def test_a_redirect_to_a_private_address_is_refused(remote: int) -> None:
    # Given a server that redirects to a name resolving to a private address
    names = Names(media_example="127.0.0.1", internal_example="10.1.2.3")
    url = f"http://media.example:{remote}/to?u=http://internal.example/secret"
    # When fetched
    with pytest.raises(UrlRefused, match=r"internal\.example resolves to a private address"):
        fetch(url, guard=Guard(local=True, resolver=names))
    # Then the first hop was made and the second refused before connecting
    assert Remote.hits == ["/to?u=http://internal.example/secret"]


def test_a_redirect_to_the_metadata_service_literal_is_refused(remote: int) -> None:
    names = Names(media_example="127.0.0.1")
    url = f"http://media.example:{remote}/to?u=http://169.254.169.254/latest/meta-data/"
    with pytest.raises(UrlRefused, match="metadata"):
        fetch(url, guard=Guard(local=True, resolver=names))


def test_a_redirect_is_followed_when_its_target_passes(remote: int) -> None:
    names = Names(media_example="127.0.0.1", cdn_example="127.0.0.1")
    url = f"http://media.example:{remote}/to?u=http://cdn.example:{remote}/media"
    got = fetch(url, guard=Guard(local=True, resolver=names))
    assert got.content == PNG
    assert names.lookups == ["media.example", "cdn.example"]


def test_endless_redirects_are_refused(remote: int) -> None:
    names = Names(media_example="127.0.0.1")
    with pytest.raises(UrlRefused, match="redirected more than"):
        fetch(f"http://media.example:{remote}/loop", guard=Guard(local=True, resolver=names))


def test_a_declared_length_over_the_cap_is_refused_before_reading(remote: int) -> None:
    names = Names(media_example="127.0.0.1")
    with pytest.raises(TooLarge, match="over the 100000-byte cap"):
        fetch(
            f"http://media.example:{remote}/big", guard=Guard(local=True, resolver=names), max_bytes=100_000
        )


def test_a_streamed_body_is_cut_off_at_the_cap(remote: int) -> None:
    # Given an answer with no length that is 1 MB long
    names = Names(media_example="127.0.0.1")
    # When fetched with a 200 kB cap
    # Then the fetch stops with TooLarge instead of reading it all
    with pytest.raises(TooLarge):
        fetch(
            f"http://media.example:{remote}/stream",
            guard=Guard(local=True, resolver=names),
            max_bytes=200_000,
        )


def test_a_slow_drip_is_stopped_at_the_total_deadline(remote: int) -> None:
    # Given a server that sends a byte every 50 ms (never idle long enough for a read timeout)
    names = Names(media_example="127.0.0.1")
    # When fetched with a 0.5 s deadline
    with pytest.raises(TransientError) as caught:
        fetch(f"http://media.example:{remote}/drip", guard=Guard(local=True, resolver=names), deadline_s=0.5)
    # Then the deadline ended it (not the drip's end, nor a read timeout), as a transient error saying so
    assert caught.value.code == "deadline"


def test_a_name_that_does_not_resolve_is_transient_not_a_crash() -> None:
    with pytest.raises(TransientError):
        fetch("https://nowhere.example/a.png", guard=Guard(resolver=Names()))


# --------------------------------------------------------------------------------- the guarded session


def test_the_guarded_session_refuses_an_api_host_resolving_to_the_metadata_service_at_connect() -> None:
    # Given a Mastodon instance URL whose name resolves to the metadata service
    session = GuardedSession(Guard(resolver=Names(evil_example="169.254.169.254"), field_name="base_url"))
    # When an adapter calls it through chorus.platforms.http.call
    # Then the call is refused as a permanent error naming base_url
    with pytest.raises(UrlRefused) as caught:
        call(session, "POST", "https://evil.example/api/v1/apps", "mastodon")
    assert caught.value.field == "base_url"
    assert "metadata" in caught.value.message


def test_the_guarded_session_refuses_plain_http_outside_the_embedded_runtime() -> None:
    session = GuardedSession(Guard(resolver=Names()))
    with pytest.raises(UrlRefused, match="https"):
        session.get("http://cdn.example/a.png", timeout=1)


def test_the_production_guard_follows_the_embedded_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    from chorus.config import reset_caches

    monkeypatch.setenv("CHORUS_EMBEDDED", "true")
    reset_caches()
    assert guarded_session().guard.local is True
    monkeypatch.setenv("CHORUS_EMBEDDED", "false")
    reset_caches()
    assert guarded_session().guard.local is False
    reset_caches()


# --------------------------------------------------------------------------------- where users type URLs


@pytest.mark.parametrize(
    "url",
    ["https://169.254.169.254/latest/meta-data/a.png", "http://cdn.example/a.png", "https://10.0.0.8/a.png"],
)
def test_a_csv_media_url_chorus_would_never_fetch_is_a_422_naming_media_url(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chorus.config import reset_caches
    from chorus.posts.imports import row_to_compose

    # Given a deployment in AWS (not the embedded runtime) and a CSV row whose media_url is unfetchable
    monkeypatch.setenv("CHORUS_EMBEDDED", "false")
    reset_caches()
    row = {"time": "2026-12-07T10:00:00Z", "accounts": "acc1", "text": "hi", "media_url": url}
    # When the row is read
    with pytest.raises(ValidationFailed) as caught:
        row_to_compose(row)
    # Then it is refused at input, naming the column
    assert caught.value.errors[0].field == "media_url"
    reset_caches()


def test_a_csv_media_url_on_a_public_https_host_is_kept() -> None:
    from chorus.posts.imports import row_to_compose

    row = {
        "time": "2026-12-07T10:00:00Z",
        "accounts": "acc1",
        "text": "hi",
        "media_url": "https://cdn.example/a.png",
    }
    assert row_to_compose(row).content.media[0].url == "https://cdn.example/a.png"


def test_a_mastodon_base_url_resolving_to_a_private_address_is_a_400_naming_base_url() -> None:
    from chorus.accounts.ownership import Claim, prove

    # Given a token connected with an instance URL whose name resolves to a private address
    claim = Claim("mastodon", "tok-1", None, "https://instance.example", {})
    session = GuardedSession(Guard(resolver=Names(instance_example="10.20.30.40"), field_name="base_url"))
    # When ownership is proven against the instance
    with pytest.raises(ChorusError) as caught:
        prove(claim, session=session)
    # Then nothing is asked of that address, and the answer is a 4xx naming base_url
    assert caught.value.status == 400
    assert caught.value.errors[0].field == "base_url"
    assert "private address" in caught.value.errors[0].message


def test_a_mastodon_base_url_over_http_is_a_422_naming_base_url_outside_the_embedded_runtime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chorus.accounts.ownership import Claim, prove
    from chorus.config import reset_caches

    monkeypatch.setenv("CHORUS_EMBEDDED", "false")
    reset_caches()
    with pytest.raises(ValidationFailed) as caught:
        prove(Claim("mastodon", "tok-1", None, "http://instance.example", {}))
    assert caught.value.errors[0].field == "base_url"
    reset_caches()


def _certificate(tmp_path: Any, host: str) -> tuple[str, str]:
    """A self-signed certificate for ``host`` (and its key), as PEM files."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)


def test_a_pinned_https_connection_still_verifies_the_certificate_for_the_host_name(
    remote: int, tmp_path: Any
) -> None:
    import ssl

    # Given an https server on 127.0.0.1 whose certificate names media.example, which resolves there
    cert, key = _certificate(tmp_path, "media.example")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Remote)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    port = server.server_address[1]
    session = GuardedSession(
        Guard(local=True, resolver=Names(media_example="127.0.0.1", other_example="127.0.0.1"))
    )
    try:
        # When fetched by its name over the pinned connection, trusting that certificate
        got = session.get(f"https://media.example:{port}/media", verify=cert, timeout=5)
        # Then TLS succeeds (SNI and the certificate check use the name, the socket the checked address)
        assert got.content == PNG
        # And a name the certificate does not cover fails verification, though it resolves to the same place
        with pytest.raises(requests.exceptions.SSLError):
            session.get(f"https://other.example:{port}/media", verify=cert, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
