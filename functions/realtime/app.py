"""WebSocket API: $connect authenticates the API key (query ``key``) and scopes the connection to its
workspace, remembering the key (revoking it closes the connection at once); $disconnect forgets it;
$default answers pings."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.auth.workspaces import authenticate
from chorus.errors import ChorusError
from chorus.inbox import live
from chorus.observability import logger


@logger.inject_lambda_context
@event_source(data_class=APIGatewayWebSocketEvent)
def handler(event: APIGatewayWebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    route = event.request_context.route_key
    connection_id = event.request_context.connection_id
    if route == "$connect":
        key = (event.query_string_parameters or {}).get("key")
        try:
            live.connect(authenticate(f"Bearer {key}" if key else None), connection_id)
        except ChorusError as error:
            logger.info("websocket refused", reason=error.detail)
            return {"statusCode": error.status, "body": error.detail}
        return {"statusCode": 200}
    if route == "$disconnect":
        live.disconnect(connection_id)
        return {"statusCode": 200}
    return {"statusCode": 200, "body": json.dumps({"type": "pong"})}
