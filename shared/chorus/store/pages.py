"""One page of a DynamoDB query: a bounded page size and an opaque cursor (issue 14: no request path reads
a whole workspace).

A list route answers ``limit`` items at most (1..``MAX_LIMIT``, ``DEFAULT_LIMIT`` when not given) and a
``next_cursor`` when there may be more: the query's LastEvaluatedKey as base64url JSON. A cursor given
back is checked before it reaches DynamoDB (a 400 naming ``cursor``): it must decode to the key attributes
the query can return, with the query's own partition (a cursor cannot read another workspace) and a sort
key inside the query's range.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from chorus.errors import BadRequest, ValidationFailed
from chorus.store.models import MainItem

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
MAX_CURSOR = 2048  # characters; a LastEvaluatedKey of this table is far shorter

T = TypeVar("T")
M = TypeVar("M", bound=MainItem)
T_co = TypeVar("T_co", covariant=True)


class Results(Protocol[T_co]):
    """What pynamodb's ``Model.query`` answers: items, and where the read stopped."""

    def __iter__(self) -> Any: ...

    @property
    def last_evaluated_key(self) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    @classmethod
    def from_query(
        cls, params: Mapping[str, str], default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT
    ) -> PageRequest:
        """``limit`` and ``cursor`` from a query string; a limit that is not 1..``maximum`` is a 422."""
        raw = (params.get("limit") or "").strip()
        limit = default
        if raw:
            try:
                limit = int(raw)
            except ValueError:
                raise ValidationFailed.on("limit", f"a whole number from 1 to {maximum}", "type") from None
        if not 1 <= limit <= maximum:
            raise ValidationFailed.on("limit", f"must be from 1 to {maximum}", "range")
        return cls(limit, params.get("cursor") or None)


@dataclass(frozen=True)
class KeyRange:
    """Which LastEvaluatedKeys a query can give: its partition, the prefix of its sort key, and the names
    of every key attribute (the table's and, for an index query, the index's)."""

    partition: tuple[str, str]  # (attribute name, value)
    sort: tuple[str, str] | None = None  # (attribute name, prefix its values start with)
    names: frozenset[str] = field(default_factory=lambda: frozenset({"pk", "sk"}))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(key: Mapping[str, Any] | None) -> str | None:
    if not key:
        return None
    raw = json.dumps(key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _refused(why: str) -> BadRequest:
    return BadRequest.on("cursor", why, "cursor")


def decode_cursor(cursor: str, keys: KeyRange) -> dict[str, Any]:
    """The LastEvaluatedKey in ``cursor``, or a 400 naming the cursor when it is not one ``keys`` allows."""
    if len(cursor) > MAX_CURSOR:
        raise _refused("too long to be a cursor this API gave out")
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise _refused("not a cursor this API gave out") from None
    if not isinstance(data, dict) or not data or not set(data) <= keys.names:
        raise _refused("not a cursor of this list")
    values: dict[str, str] = {}
    for name, value in data.items():
        if not isinstance(value, dict) or set(value) != {"S"} or not isinstance(value["S"], str):
            raise _refused("not a cursor of this list")
        values[name] = value["S"]
    hash_name, hash_value = keys.partition
    if values.get(hash_name) != hash_value:
        raise _refused("not a cursor of this list")
    if keys.sort is not None:
        sort_name, prefix = keys.sort
        if not values.get(sort_name, "").startswith(prefix):
            raise _refused("not a cursor of this list")
    return dict(data)


def read_page(
    query: Callable[..., Results[T]],
    page: PageRequest,
    keys: KeyRange,
    keep: Callable[[T], bool] | None = None,
) -> Page[T]:
    """One page of ``query`` (called with ``limit`` and ``last_evaluated_key``): at most ``page.limit``
    items read, those ``keep`` accepts answered, and the cursor of the rest when the read stopped early."""
    start = decode_cursor(page.cursor, keys) if page.cursor else None
    results = query(limit=page.limit, last_evaluated_key=start)
    read: Iterable[T] = results
    items = [item for item in read if keep is None or keep(item)]
    return Page(items, encode_cursor(results.last_evaluated_key))


def prefix_page(
    model: type[M],
    pk: str,
    prefix: str,
    page: PageRequest,
    *,
    newest_first: bool = False,
    keep: Callable[[M], bool] | None = None,
) -> Page[M]:
    """One page of ``model``'s items in partition ``pk`` whose sort key starts with ``prefix`` (sort key
    order, or its reverse when ``newest_first``); a cursor must stay inside that partition and prefix."""
    order: dict[str, Any] = {"scan_index_forward": False} if newest_first else {}
    return read_page(
        lambda **kw: model.query(pk, model.sk.startswith(prefix), **order, **kw),
        page,
        KeyRange(("pk", pk), ("sk", prefix)),
        keep,
    )
