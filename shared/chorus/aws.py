"""boto3 clients, one per service per process, created on first use (cold starts are part of the
product: a handler that never touches S3 never pays for an S3 client)."""

from __future__ import annotations

import functools
import threading
from typing import Any

from chorus.config import get_settings, register_reset

_lock = threading.Lock()
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is not None:
        return found
    with _lock:
        if service not in _clients:
            import boto3
            from botocore.config import Config

            # a handler may work a batch's records on several threads: one pooled connection each.
            # Requests are not checked against the API model before they are sent (the service checks
            # them and answers ValidationException): pynamodb's client does the same, and the check was
            # a seventh of the ingest worker's CPU (a walk over every attribute value of every item).
            config = Config(max_pool_connections=32, parameter_validation=False)
            made = boto3.session.Session().client(  # type: ignore[call-overload]
                service, region_name=get_settings().region, config=config
            )
            if service == "dynamodb":
                attribute_values_as_they_are(made)
            _clients[service] = made
        return _clients[service]


def attribute_values_as_they_are(dynamodb: Any) -> None:
    """Let a DynamoDB client write the attribute values of a request as they are given.

    botocore walks every attribute value of every item through the AttributeValue shape, member by
    member. For a TransactWriteItems of 40 items that walk was a fifth of the ingest worker's CPU, only
    to copy the values unchanged. Values holding binary data (``B``, ``BS``, at any depth) still take
    the walk, which base64-encodes them. The request body is the same byte for byte
    (tests/unit/test_aws_clients.py)."""
    from botocore.serialize import JSONSerializer

    current = getattr(dynamodb, "_serializer", None)
    if type(current) is not JSONSerializer:  # a botocore that serializes otherwise: leave it be
        return
    dynamodb._serializer = _plain_attribute_values()()


def _plain(value: dict[str, Any]) -> bool:
    """An AttributeValue with no binary member at any depth."""
    for kind, member in value.items():
        if kind in ("B", "BS"):
            return False
        if kind == "M" and not all(_plain(v) for v in member.values()):
            return False
        if kind == "L" and not all(_plain(v) for v in member):
            return False
    return True


@functools.cache
def _plain_attribute_values() -> type:
    from botocore.serialize import JSONSerializer

    class PlainAttributeValues(JSONSerializer):
        def _serialize_type_map(self, serialized: Any, value: Any, shape: Any, key: Any) -> None:
            # an item, a key, ExpressionAttributeValues: all at once when no value is binary
            plain = shape.value.name == "AttributeValue" and all(
                isinstance(v, dict) and _plain(v) for v in value.values()
            )
            if plain:
                serialized[key] = value
                return
            super()._serialize_type_map(serialized, value, shape, key)  # type: ignore[misc]

        def _serialize_type_structure(self, serialized: Any, value: Any, shape: Any, key: Any) -> None:
            if (
                key is not None
                and shape.name == "AttributeValue"
                and isinstance(value, dict)
                and _plain(value)
            ):
                serialized[key] = value
                return
            super()._serialize_type_structure(serialized, value, shape, key)  # type: ignore[misc]

    return PlainAttributeValues


def reset_clients() -> None:
    with _lock:
        _clients.clear()


register_reset(reset_clients)
