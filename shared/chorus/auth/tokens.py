"""Cognito ID and access tokens (JWT, RS256) verified against the user pool's JWKS.

What is checked, as AWS documents for Cognito tokens: the signature with the key the header's ``kid``
names (RS256 only, so ``alg: none`` and HMAC-with-the-public-key tricks are refused), the issuer
(``https://cognito-idp.<region>.amazonaws.com/<pool id>``, also on the embedded runtime, where moto
writes that very URL while the keys come from its own endpoint), the app client (``aud`` on an ID
token, ``client_id`` on an access token), ``token_use`` and expiry. The key set is fetched once and
again only when a token names a key it does not hold (Cognito rotates keys rarely), at most once a
minute, so a forged ``kid`` cannot make every request fetch.

Sign-out everywhere is not visible in a token: :class:`Identity` carries ``issued_at`` so the member
check can refuse tokens issued before the user's last sign-out (``chorus.auth.members``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
import requests

from chorus.config import cached, get_settings
from chorus.errors import Unauthorized, Unavailable

LEEWAY_S = 30  # clock skew tolerated on exp/iat
REFETCH_EVERY_S = 60.0  # an unknown kid fetches the key set again at most this often
JWKS_TIMEOUT_S = (2.0, 3.0)


@dataclass(frozen=True)
class Identity:
    """A signed-in person, as their token says."""

    user_id: str  # the pool's ``sub``: stable, never reused
    email: str | None  # on ID tokens, when the pool has verified it; access tokens carry none
    token_use: str  # "id" or "access"
    issued_at: datetime
    signed_in_at: datetime  # ``auth_time``: when the person signed in (refreshed tokens keep it)


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


class JwksKeys:
    """The pool's public keys by ``kid``, fetched from ``url`` by ``fetch`` (a JSON document)."""

    def __init__(
        self, url: str, fetch: Callable[[str], dict[str, Any]], clock: Callable[[], float] = time.monotonic
    ):
        self._url = url
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            found = self._keys.get(kid)
            if found is not None:
                return found
            now = self._clock()
            if self._fetched_at is not None and now - self._fetched_at < REFETCH_EVERY_S:
                raise Unauthorized("the token is signed with an unknown key")
            try:
                document = self._fetch(self._url)
            except (requests.RequestException, ValueError) as exc:
                raise Unavailable("the user pool's signing keys could not be fetched; try again") from exc
            self._fetched_at = now
            self._keys = {
                str(k["kid"]): jwt.PyJWK(k, algorithm="RS256")
                for k in document.get("keys", [])
                if k.get("kty") == "RSA" and "kid" in k
            }
            found = self._keys.get(kid)
        if found is None:
            raise Unauthorized("the token is signed with an unknown key")
        return found


class TokenVerifier:
    def __init__(self, issuer: str, client_id: str, keys: JwksKeys) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self._keys = keys

    def verify(self, token: str) -> Identity:
        """The identity a valid token proves; Unauthorized (401) naming what is wrong otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthorized("malformed token") from exc
        if header.get("alg") != "RS256":
            raise Unauthorized("the token must be signed with RS256")
        key = self._keys.key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired; refresh it or sign in again") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthorized("the token was issued by another user pool") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc
        use = claims["token_use"]
        if use == "id":
            audience = claims.get("aud")
        elif use == "access":
            audience = claims.get("client_id")
        else:
            raise Unauthorized(f"a {use!r} token is not accepted; send an ID or access token")
        if audience != self.client_id:
            raise Unauthorized("the token was issued to another app client")
        return Identity(
            user_id=str(claims["sub"]),
            email=str(claims["email"]).lower() if claims.get("email") and _verified(claims) else None,
            token_use=use,
            issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
            signed_in_at=datetime.fromtimestamp(int(claims.get("auth_time", claims["iat"])), UTC),
        )


def _verified(claims: dict[str, Any]) -> bool:
    """Cognito writes ``email_verified`` as a boolean, moto (from the attribute) as "true"."""
    return claims.get("email_verified") in (True, "true")


def issuer_of(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def fetch_json(url: str) -> dict[str, Any]:
    response = requests.get(url, timeout=JWKS_TIMEOUT_S)
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


@cached
def default_verifier() -> TokenVerifier | None:
    """The verifier of the pool the template declares; None where sign-in is not configured."""
    settings = get_settings()
    if not settings.cognito_user_pool_id or not settings.cognito_client_id:
        return None
    issuer = issuer_of(settings.region, settings.cognito_user_pool_id)
    url = settings.cognito_jwks_url or f"{issuer}/.well-known/jwks.json"
    return TokenVerifier(issuer, settings.cognito_client_id, JwksKeys(url, fetch_json))
