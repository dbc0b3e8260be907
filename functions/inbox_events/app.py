"""The inbox's bookkeeping from the main table's stream: a published target links its platform post
to the Chorus post (so comments on it are linked), and connected/removed accounts of polled
platforms enter/leave the poll index. (Stream records are filtered in the template; the handler
checks again.)"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.inbox.links import on_stream_record
from chorus.observability import logger


@logger.inject_lambda_context
@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context: LambdaContext) -> dict[str, Any]:
    handled = 0
    for record in event.records:
        handled += on_stream_record(
            record.event_name.name if record.event_name else "",
            dict(record.dynamodb.new_image or {}) if record.dynamodb else {},
            dict(record.dynamodb.old_image or {}) if record.dynamodb else {},
        )
    return {"handled": handled}
