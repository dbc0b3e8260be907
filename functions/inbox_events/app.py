"""The main table's stream, in batches: a published target's platform post linked to its Chorus post
and followed for metric collection (chorus.posts.published), and connected/removed accounts of polled
platforms entering/leaving the poll index. (Stream records are filtered in the template; the domain
checks again.)"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from chorus.observability import logger
from chorus.posts.published import on_table_changes


@logger.inject_lambda_context
@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context: LambdaContext) -> dict[str, Any]:
    handled = on_table_changes(
        (
            record.event_name.name if record.event_name else "",
            dict(record.dynamodb.new_image or {}) if record.dynamodb else {},
            dict(record.dynamodb.old_image or {}) if record.dynamodb else {},
        )
        for record in event.records
    )
    return {"handled": handled}
