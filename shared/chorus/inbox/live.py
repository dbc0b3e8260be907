"""Live updates: WebSocket connections scoped to a workspace, and pushing changes to them (to all of them,
or to one person's: :func:`push_to`).

Each connection remembers the API key and the member it authenticated with: revoking the key or removing
the member closes its connections at once (:class:`LiveSessions`, through the API Gateway management API's DeleteConnection)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pynamodb.exceptions import DoesNotExist

from chorus.auth.keys import Principal
from chorus.store import keys
from chorus.store.models import ConnectionItem, bind
from chorus.ttl import TtlCache

log = logging.getLogger(__name__)

CONNECTION_TTL = timedelta(hours=2)  # API Gateway closes WebSocket connections after two hours
LIST_TTL_S = 2.0  # a burst pushes to the connections read at most this long ago (a browser that
# connected since misses at most that much; it loads the inbox when it connects)
_listed: TtlCache[str, list[str]] = TtlCache(LIST_TTL_S)


class ConnectionSender(Protocol):
    def send(self, connection_id: str, data: bytes) -> bool:
        """Push ``data``; False when the connection is gone."""
        ...


class ConnectionCloser(Protocol):
    def close(self, connection_id: str) -> bool:
        """Close the connection; False when it was gone already."""
        ...


def connect(principal: Principal, connection_id: str) -> None:
    bind()
    now = datetime.now(UTC)
    expires = now + CONNECTION_TTL
    for pk, sk in (
        (keys.workspace_pk(principal.workspace_id), keys.connection_sk(connection_id)),
        (keys.connection_sk(connection_id), keys.workspace_meta_sk()),
    ):
        ConnectionItem(
            pk,
            sk,
            workspace_id=principal.workspace_id,
            connection_id=connection_id,
            connected_at=now,
            expires_at=expires,
            key_id=principal.key_id,
            user_id=principal.user_id,
        ).save()
    _listed.forget(principal.workspace_id)


def disconnect(connection_id: str) -> None:
    bind()
    try:
        item = ConnectionItem.get(keys.connection_sk(connection_id), keys.workspace_meta_sk())
    except DoesNotExist:
        return
    _forget(item.workspace_id, connection_id)


def _forget(workspace_id: str, connection_id: str) -> None:
    _listed.forget(workspace_id)
    for pk, sk in (
        (keys.workspace_pk(workspace_id), keys.connection_sk(connection_id)),
        (keys.connection_sk(connection_id), keys.workspace_meta_sk()),
    ):
        ConnectionItem(pk, sk).delete()


class LiveSessions:
    """The live connections an API key opened (``chorus.auth.workspaces.SessionCloser``)."""

    def __init__(self, closer: ConnectionCloser) -> None:
        self._closer = closer

    def close_sessions(self, workspace_id: str, key_id: str) -> int:
        """Close every connection ``key_id`` opened in the workspace and forget them; how many were
        still open."""
        return self._close(workspace_id, lambda c: c.key_id == key_id, key_id=key_id)

    def close_member_sessions(self, workspace_id: str, user_id: str) -> int:
        """Close every connection ``user_id`` opened in the workspace, signed in or with their keys."""
        return self._close(workspace_id, lambda c: c.user_id == user_id, user_id=user_id)

    def _close(self, workspace_id: str, whose: Callable[[ConnectionItem], bool], **about: str) -> int:
        opened = _opened(workspace_id, whose, consistent=True)
        closed = 0
        for connection_id in opened:
            closed += self._closer.close(connection_id)
            _forget(workspace_id, connection_id)
        _listed.forget(workspace_id)
        if opened:
            log.info("connections closed", extra={**about, "closed": closed})
        return closed


def _opened(
    workspace_id: str, whose: Callable[[ConnectionItem], bool], consistent: bool = False
) -> list[str]:
    """The workspace's stored connections ``whose`` accepts."""
    bind()
    return [
        c.connection_id
        for c in ConnectionItem.query(
            keys.workspace_pk(workspace_id),
            ConnectionItem.sk.startswith(keys.connection_sk("")),
            consistent_read=consistent,
        )
        if whose(c)
    ]


def owned_by(actor: str) -> Callable[[ConnectionItem], bool]:
    """Connections of ``actor``: ``user:<id>`` (a person, signed in or with their keys) or ``key:<id>``
    (an API key of the workspace's own)."""
    kind, _, ident = actor.partition(":")
    if kind == "user":
        return lambda c: c.user_id == ident
    return lambda c: kind == "key" and c.key_id == ident


def push_to(
    workspace_id: str, actor: str, kind: str, payload: Mapping[str, Any], sender: ConnectionSender
) -> int:
    """Push one update to ``actor``'s live connections in the workspace only (:func:`owned_by`); forget
    the ones that are gone."""
    whose, unexpired = owned_by(actor), _unexpired(datetime.now(UTC))
    mine = _opened(workspace_id, lambda c: whose(c) and unexpired(c))
    return _send_all(workspace_id, _frame(kind, payload), sender, mine)


def connections(workspace_id: str) -> list[str]:
    return _listed.get(workspace_id, _stored_connections)


def _stored_connections(workspace_id: str) -> list[str]:
    return _opened(workspace_id, _unexpired(datetime.now(UTC)))


def _unexpired(now: datetime) -> Callable[[ConnectionItem], bool]:
    return lambda c: c.expires_at is None or c.expires_at > now


def broadcast(workspace_id: str, kind: str, payload: Mapping[str, Any], sender: ConnectionSender) -> int:
    """Push one update to every live connection of the workspace; forget the ones that are gone."""
    return _send_all(workspace_id, _frame(kind, payload), sender)


def _frame(kind: str, payload: Mapping[str, Any]) -> bytes:
    return json.dumps({"type": kind, "data": payload}, default=str).encode()


def _send_all(
    workspace_id: str, data: bytes, sender: ConnectionSender, to: Sequence[str] | None = None
) -> int:
    delivered = 0
    for connection_id in connections(workspace_id) if to is None else to:
        if sender.send(connection_id, data):
            delivered += 1
        else:
            log.info("connection gone", extra={"connection_id": connection_id})
            _forget(workspace_id, connection_id)
    return delivered


FRAME_MAX_BYTES = 96 * 1024  # API Gateway refuses WebSocket messages over 128 KB
_MANY_HEAD = b'{"type": "conversations.updated", "data": {"updates": ['
_MANY_TAIL = b"]}}"


def push_updates(workspace_id: str, updates: Sequence[Mapping[str, Any]], sender: ConnectionSender) -> int:
    """Push the conversations one batch changed: one ``conversation.updated`` frame when it changed one,
    else ``conversations.updated`` frames (``{"updates": [...]}``, each entry shaped as a
    ``conversation.updated``'s data) of at most FRAME_MAX_BYTES. A burst of comments costs one call per
    connection and batch, not one per conversation. Each update is encoded once (its size decides the
    frame it goes in). Returns the frames delivered."""
    if len(updates) == 1:
        return broadcast(workspace_id, "conversation.updated", updates[0], sender)
    delivered = 0
    frame: list[bytes] = []
    size = 0
    for update in updates:
        encoded = json.dumps(update, default=str).encode()
        if frame and size + len(encoded) > FRAME_MAX_BYTES:
            delivered += _send_all(workspace_id, _MANY_HEAD + b", ".join(frame) + _MANY_TAIL, sender)
            frame, size = [], 0
        frame.append(encoded)
        size += len(encoded) + 2
    if frame:
        delivered += _send_all(workspace_id, _MANY_HEAD + b", ".join(frame) + _MANY_TAIL, sender)
    return delivered


def updates_in(frame: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The conversation updates a pushed frame carries (a browser's reading of :func:`push_updates`)."""
    if frame.get("type") == "conversations.updated":
        return list(frame.get("data", {}).get("updates", []))
    if frame.get("type") == "conversation.updated":
        return [frame.get("data", {})]
    return []


class ApiGatewaySender:
    """Adapter: the API Gateway management API (post_to_connection)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def send(self, connection_id: str, data: bytes) -> bool:
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except self._client.exceptions.GoneException:
            return False
        return True

    def close(self, connection_id: str) -> bool:
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except self._client.exceptions.GoneException:
            return False
        return True


def default_sender() -> ApiGatewaySender:
    import boto3

    from chorus.config import get_settings

    return ApiGatewaySender(
        boto3.client("apigatewaymanagementapi", endpoint_url=get_settings().ws_callback_url)
    )
