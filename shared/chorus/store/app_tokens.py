"""An app's shared access token (WeChat: one per AppID) on the main table, KMS-encrypted, with the
refresh lease taken by a conditional write (:mod:`chorus.platforms.wechat.token`).

One item per app: ``pk = APPTOKEN#<platform>#<app id>``, ``sk = token``. The token is encrypted like
account tokens (:class:`~chorus.accounts.tokens.TokenCipher`), bound to the platform and app id by the
encryption context; ``token_hash`` (SHA-256) lets a refusal mark exactly the refused token stale
without decrypting anything. The item expires (DynamoDB TTL) a day after its token.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chorus.accounts.tokens import TokenCipher, TokenSet, default_cipher
from chorus.platforms.wechat.token import HeldToken
from chorus.store.models import MainItem, bind, conditional_failed

SK = "token"


class AppTokenItem(MainItem, discriminator="app_token"):
    platform = UnicodeAttribute()
    app_id = UnicodeAttribute()
    token_blob = UnicodeAttribute(null=True)
    token_hash = UnicodeAttribute(null=True)
    token_expires_at = UTCDateTimeAttribute(null=True)
    refresh_at = UTCDateTimeAttribute(null=True)
    refused = BooleanAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DynamoAppTokens:
    """:class:`chorus.platforms.wechat.token.AppTokenStore` on the main table."""

    def __init__(self, platform: str = "wechat", cipher: TokenCipher | None = None) -> None:
        self.platform = platform
        self._cipher = cipher

    @property
    def cipher(self) -> TokenCipher:
        if self._cipher is None:
            self._cipher = default_cipher()
        return self._cipher

    def _pk(self, app_id: str) -> str:
        return f"APPTOKEN#{self.platform}#{app_id}"

    def _context(self, app_id: str) -> dict[str, str]:
        return {"platform": self.platform, "app_id": app_id}

    def _item(self, app_id: str) -> AppTokenItem | None:
        bind()
        try:
            return AppTokenItem.get(self._pk(app_id), SK, consistent_read=True)
        except DoesNotExist:
            return None

    def held(self, app_id: str) -> HeldToken | None:
        item = self._item(app_id)
        if item is None or not item.token_blob or item.token_expires_at is None or item.refresh_at is None:
            return None
        token = self.cipher.decrypt(item.token_blob, self._context(app_id)).access_token
        return HeldToken(token, item.token_expires_at, item.refresh_at, refused=bool(item.refused))

    def lease(self, app_id: str, now: datetime, until: datetime) -> bool:
        item = self._item(app_id)
        if item is None:
            made = AppTokenItem(
                self._pk(app_id), SK, platform=self.platform, app_id=app_id, lease_until=until
            )
            made.expires_at = until + timedelta(days=1)
            try:
                made.save(condition=MainItem.pk.does_not_exist())
            except PutError as exc:
                if conditional_failed(exc):
                    return False
                raise
            return True
        free = AppTokenItem.lease_until.does_not_exist() | (AppTokenItem.lease_until < now)
        try:
            item.update(actions=[AppTokenItem.lease_until.set(until)], condition=free)
        except UpdateError as exc:
            if conditional_failed(exc):
                return False
            raise
        return True

    def keep(self, app_id: str, token: HeldToken) -> None:
        bind()
        blob = self.cipher.encrypt(TokenSet(token.token, expires_at=token.expires_at), self._context(app_id))
        item = AppTokenItem(self._pk(app_id), SK, platform=self.platform, app_id=app_id, token_blob=blob,
                            token_hash=_hash(token.token), token_expires_at=token.expires_at,
                            refresh_at=token.refresh_at, refused=False)  # fmt: skip
        item.expires_at = token.expires_at + timedelta(days=1)
        item.save()  # ends the lease (no lease_until)

    def release(self, app_id: str) -> None:
        bind()
        try:
            AppTokenItem(self._pk(app_id), SK).update(
                actions=[AppTokenItem.lease_until.remove()], condition=MainItem.pk.exists()
            )
        except UpdateError as exc:
            if not conditional_failed(exc):
                raise

    def refused(self, app_id: str, token: str) -> None:
        bind()
        try:
            AppTokenItem(self._pk(app_id), SK).update(
                actions=[AppTokenItem.refused.set(True)], condition=AppTokenItem.token_hash == _hash(token)
            )
        except UpdateError as exc:
            if not conditional_failed(exc):
                raise  # a token refused that is no longer the one held: nothing to mark
