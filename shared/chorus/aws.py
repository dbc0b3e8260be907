"""boto3 clients, one per service per process, created on first use (cold starts are part of the
product: a handler that never touches S3 never pays for an S3 client)."""

from __future__ import annotations

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
            _clients[service] = boto3.session.Session().client(  # type: ignore[call-overload]
                service, region_name=get_settings().region, config=config
            )
        return _clients[service]


def reset_clients() -> None:
    with _lock:
        _clients.clear()


register_reset(reset_clients)
