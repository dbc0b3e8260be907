"""The one guarded door for outbound URLs (DESIGN decision 14, issue 14).

Everything Chorus fetches or calls at an address a user gave (a post's media URL or CSV ``media_url``
before it is uploaded to a platform, an account's ``base_url``: its Mastodon instance or Bluesky PDS)
goes through this module, so a URL typed by a contributor cannot make Chorus read its own network:

* **https only.** ``http://`` is accepted only on the embedded runtime (``Settings.embedded``), where the
  media bucket and fake platforms live on 127.0.0.1. A URL with user info (``user:pass@``) is refused.
* **Every resolved address is checked**, at connect time, by the connection itself: a host that
  resolves to any private (RFC 1918, fc00::/7), loopback, link-local, CGNAT (100.64/10), multicast,
  reserved or unspecified address, or to the instance metadata service (169.254.169.254,
  fd00:ec2::254), is refused. IPv4 inside IPv6 (mapped, 6to4, Teredo, NAT64) is checked as IPv4.
  The embedded runtime also accepts loopback, nothing else.
* **The connection is pinned to the checked address**: the socket is opened to the very address that
  was checked (no second lookup, so no DNS-rebinding window); TLS still verifies the certificate
  and sends SNI for the host name.
* **Redirects are followed by hand** (at most :data:`MAX_REDIRECTS`), each hop's URL checked again
  (scheme, user info) and its connection checked like the first.
* **A size cap while streaming** (``Content-Length`` above the cap is refused before reading; the body
  is counted as it arrives) and **a total deadline** over every hop and the whole body.

Errors are platform errors, so adapters and the publisher handle them like any other:
:class:`UrlRefused` (a :class:`PermanentError` naming ``field``, the place the user typed the URL),
:class:`TooLarge` (permanent) and a :class:`TransientError` when the deadline passes. At input time
(:func:`checked_url`) a URL that can never pass is a 422 naming the field.

:func:`guarded_session` is a ``requests.Session`` with the same connection checks and scheme rule, for
adapters that talk to a user-given API host (Mastodon instances, Bluesky PDSes) through
:func:`chorus.platforms.http.call`.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from chorus.errors import ValidationFailed
from chorus.net.redact import redact_url
from chorus.platforms.base import PermanentError, TransientError

MAX_REDIRECTS = 5
MAX_BYTES = 100 * 1024 * 1024
"""Default size cap of one fetch: above the largest upload a platform Chorus speaks to accepts in one go."""
DEADLINE_S = 120.0
"""Default total time of one fetch (every hop and the whole body)."""
CONNECT_TIMEOUT_S = 3.05
READ_TIMEOUT_S = 30.0
CHUNK = 64 * 1024

METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]


class UrlRefused(PermanentError):
    """The URL (or an address it resolves or redirects to) is not one Chorus may fetch."""

    def __init__(self, message: str, *, field_name: str = "url", **kw: Any) -> None:
        super().__init__(f"{field_name}: {message}", code="url_refused", **kw)
        self.field = field_name


class TooLarge(PermanentError):
    """The answer is larger than the fetch's size cap."""


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver), in its order, without repeats."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(ip: Address, *, allow_loopback: bool = False) -> str | None:
    """Why Chorus may not connect to ``ip`` (``None`` when it may): the address classes of decision 14."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            return address_problem(inner, allow_loopback=allow_loopback)
    if ip in METADATA_ADDRESSES:
        return "the instance metadata service"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    for flag, label in (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "a non-public address"),
    ):
        if flag:
            return label
    return None


@dataclass(frozen=True)
class Guard:
    """The rules of one fetcher: which schemes and addresses it accepts, and how names are resolved.

    ``local`` is the embedded runtime (http and loopback accepted); ``resolver`` is replaceable so tests
    can make a name resolve to any address."""

    local: bool = False
    resolver: Resolver = field(default=resolve)
    field_name: str = "url"

    def check_url(self, url: str) -> str:
        """``url`` if its form may be fetched (scheme, host, no user info), else :class:`UrlRefused`."""
        problem = url_problem(url, local=self.local)
        if problem:
            raise UrlRefused(problem, field_name=self.field_name)
        return url

    def connect_to(self, host: str, port: int) -> list[str]:
        """The addresses of ``host`` Chorus may connect to; :class:`UrlRefused` if any is refused."""
        try:
            addresses = [str(a) for a in self.resolver(host, port)]
        except UnicodeError as exc:
            raise UrlRefused(f"{host!r} is not a valid host name", field_name=self.field_name) from exc
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} has no address")
        for text in addresses:
            problem = address_problem(ipaddress.ip_address(text.split("%", 1)[0]), allow_loopback=self.local)
            if problem:
                raise UrlRefused(f"{host} resolves to {problem} ({text})", field_name=self.field_name)
        return addresses


def url_problem(url: str, *, local: bool) -> str | None:
    """Why ``url`` can never be fetched, judged on its form alone (``None`` when it may be)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not local):
        return "must be an https:// URL" + (" (or http:// on the embedded runtime)" if local else "")
    if not host:
        return "has no host"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password"
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return None
    problem = address_problem(literal, allow_loopback=local)
    return f"points at {problem}" if problem else None


def checked_url(value: str, field_name: str, *, local: bool | None = None) -> str:
    """``value`` if it is a URL Chorus may fetch for the user, else a 422 naming ``field_name``.

    The form is checked here (input time); the addresses it resolves to are checked when it is fetched.
    """
    problem = url_problem(value.strip(), local=is_local() if local is None else local)
    if problem:
        raise ValidationFailed.on(field_name, problem, "url")
    return value.strip()


def is_local() -> bool:
    """True on the embedded runtime (http and loopback are how its buckets and fakes are reached)."""
    from chorus.config import get_settings

    return get_settings().embedded


def default_guard(field_name: str = "url") -> Guard:
    return Guard(local=is_local(), field_name=field_name)


# --------------------------------------------------------------------------------- pinned connections


class _Pinned:
    """Mixed into urllib3's connections: resolve, check every address, connect to a checked one."""

    guard: Guard
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        try:
            addresses = self.guard.connect_to(self.host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        last: OSError | None = None
        for address in addresses:
            try:
                return urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc
            except OSError as exc:
                last = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {last}")  # type: ignore[arg-type]


class _PinnedHTTPConnection(_Pinned, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_Pinned, HTTPSConnection):
    pass


class GuardedAdapter(HTTPAdapter):
    """A transport adapter whose every new connection goes through :class:`Guard` (no proxies)."""

    def __init__(self, guard: Guard, **kw: Any) -> None:
        self.guard = guard
        super().__init__(**kw)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        guard = self.guard
        http_conn = type("PinnedHTTPConnection", (_PinnedHTTPConnection,), {"guard": guard})
        https_conn = type("PinnedHTTPSConnection", (_PinnedHTTPSConnection,), {"guard": guard})
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("PinnedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("PinnedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise UrlRefused("is not fetched through a proxy", field_name=self.guard.field_name)


class GuardedSession(requests.Session):
    """A session that sends only URLs its guard accepts, over connections its guard checked.

    Redirects requests follows itself go through :meth:`send` again, so each hop is checked too."""

    def __init__(self, guard: Guard) -> None:
        super().__init__()
        self.guard = guard
        self.trust_env = False  # no proxy from the environment: the guard must see the real address
        self.max_redirects = MAX_REDIRECTS
        adapter = GuardedAdapter(guard)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.guard.check_url(request.url or "")
        return super().send(request, **kwargs)


def guarded_session(field_name: str = "base_url") -> GuardedSession:
    """The production session of adapters that call a host the user named (``base_url``)."""
    return GuardedSession(default_guard(field_name))


# --------------------------------------------------------------------------------- fetching


@dataclass(frozen=True)
class Fetched:
    content: bytes
    content_type: str | None
    url: str  # the final URL, after redirects (redacted: fit for a log)
    status: int = 200  # 206 when a ``Range`` asked for was honoured
    headers: Mapping[str, str] = field(default_factory=dict)


def fetch(
    url: str,
    *,
    field_name: str = "url",
    platform: str = "",
    max_bytes: int = MAX_BYTES,
    deadline_s: float = DEADLINE_S,
    session: requests.Session | None = None,
    guard: Guard | None = None,
    headers: dict[str, str] | None = None,
) -> Fetched:
    """GET ``url`` for a user (a media file): checked, pinned, redirects re-checked, capped, bounded.

    ``field_name`` names where the user typed the URL (it heads every refusal); ``platform`` is the
    platform the bytes are for (errors carry it). ``session`` is for tests (``responses``); the
    production session is a :class:`GuardedSession` built from ``guard`` (default: this deployment's).
    """
    from chorus.platforms.http import call

    rules = replace(guard, field_name=field_name) if guard else default_guard(field_name)
    http = session or GuardedSession(rules)
    deadline = time.monotonic() + deadline_s
    current = rules.check_url(url)
    for _hop in range(MAX_REDIRECTS + 1):
        left = _left(deadline, current, platform, field_name)
        timeout = (min(CONNECT_TIMEOUT_S, left), min(READ_TIMEOUT_S, left))
        resp = call(
            http,
            "GET",
            current,
            platform,
            timeout=timeout,
            stream=True,
            allow_redirects=False,
            headers=headers,
        )
        with resp:
            if resp.is_redirect:
                target = urljoin(current, resp.headers.get("Location", ""))
                current = rules.check_url(target)
                continue
            return Fetched(
                _body(resp, deadline, max_bytes, platform, field_name),
                resp.headers.get("Content-Type"),
                redact_url(current),
                resp.status_code,
                dict(resp.headers),
            )
    raise UrlRefused(f"redirected more than {MAX_REDIRECTS} times", field_name=field_name, platform=platform)


def _left(deadline: float, url: str, platform: str, field_name: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TransientError(
            f"{field_name}: {redact_url(url)} was not fetched within its deadline",
            platform=platform,
            code="deadline",
        )
    return left


def _body(resp: requests.Response, deadline: float, max_bytes: int, platform: str, field_name: str) -> bytes:
    """The body, counted as it arrives. ``read1`` returns whatever has arrived (a drip cannot hold one
    read open), and a watchdog shuts the socket at the deadline (a silent server cannot either)."""
    declared = resp.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"{field_name}: {declared} bytes is over the {max_bytes}-byte cap", platform=platform)
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _shut, (resp,))
    watchdog.daemon = True
    watchdog.start()
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := resp.raw.read1(CHUNK, decode_content=True):
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(
                    f"{field_name}: the answer is over the {max_bytes}-byte cap", platform=platform
                )
            _left(deadline, resp.url, platform, field_name)
            chunks.append(chunk)
    except (requests.RequestException, HTTPError, OSError) as exc:
        _left(deadline, resp.url, platform, field_name)
        raise TransientError(
            f"{field_name}: the download broke off ({type(exc).__name__})", platform=platform
        ) from None
    finally:
        watchdog.cancel()
    _left(deadline, resp.url, platform, field_name)
    return b"".join(chunks)


def _shut(resp: requests.Response) -> None:
    with suppress(ValueError, RuntimeError, OSError):
        resp.raw.shutdown()
