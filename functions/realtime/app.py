"""WebSocket API: $connect authenticates an API key (query ``key``) or a person's sign-in token (query
``token`` with ``workspace``: browsers cannot set headers on a WebSocket) and scopes the connection to
that workspace, remembering the key and the member (revoking the key or removing the member closes it at
once); $disconnect forgets it; $default answers pings."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.auth.principals import authenticate
from chorus.auth.tokens import default_verifier
from chorus.errors import ChorusError
from chorus.inbox import live
from chorus.observability import logger


@logger.inject_lambda_context
@event_source(data_class=APIGatewayWebSocketEvent)
def handler(event: APIGatewayWebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    route = event.request_context.route_key
    connection_id = event.request_context.connection_id
    if route == "$connect":
        query = event.query_string_parameters or {}
        credential = query.get("key") or query.get("token")
        try:
            who = authenticate(
                f"Bearer {credential}" if credential else None, query.get("workspace"), default_verifier()
            )
            live.connect(who, connection_id)
        except ChorusError as error:
            logger.info("websocket refused", reason=error.detail)
            return {"statusCode": error.status, "body": error.detail}
        return {"statusCode": 200}
    if route == "$disconnect":
        live.disconnect(connection_id)
        return {"statusCode": 200}
    return {"statusCode": 200, "body": json.dumps({"type": "pong"})}
