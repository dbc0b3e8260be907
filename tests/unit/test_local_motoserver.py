"""The local moto server writes DynamoDB's item-carrying answers (and stream records) with json.dumps:
the same body as moto's own serializer, for every operation it does so and every attribute type."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.core.responses import ActionResult
from moto.server import ThreadedMotoServer

from chorus.local.motoserver import PLAIN_JSON, plain_json_body

ITEM = {
    "pk": {"S": "a"}, "sk": {"S": "1"}, "g": {"S": "x"}, "b": {"B": b"\x00\x01bin"}, "n": {"N": "1.50"},
    "ns": {"NS": ["1", "2"]}, "ss": {"SS": ["a", "b"]}, "bs": {"BS": [b"x"]}, "e": {"S": ""},
    "m": {"M": {"l": {"L": [{"S": "q"}, {"NULL": True}, {"BOOL": False}]}}},
}  # fmt: skip
KEY = {"pk": {"S": "a"}, "sk": {"S": "1"}}


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[tuple[str, str]], str]]:
    seen: list[tuple[str, str]] = []
    serialize = ActionResult.execute_result

    def both(self: ActionResult, context: Any) -> Any:
        status, headers, body = serialize(self, context)
        key = (context.service_model.service_name, context.operation_model.name)
        if key in PLAIN_JSON:
            mine = plain_json_body(self.result, context.operation_model.output_shape.members)
            assert json.loads(mine) == json.loads(body), key
            seen.append(key)
        return status, headers, body

    monkeypatch.setattr(ActionResult, "execute_result", both)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield seen, f"http://{host}:{port}"
    finally:
        server.stop()


def client(service: str, url: str) -> Any:
    return boto3.client(service, region_name="us-east-1", endpoint_url=url,
                        aws_access_key_id="local", aws_secret_access_key="local")  # fmt: skip


def test_every_plain_json_answer_is_the_serializers_body(compared: tuple[list[tuple[str, str]], str]) -> None:
    seen, url = compared
    d = client("dynamodb", url)
    table = d.create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g")],
        GlobalSecondaryIndexes=[{"IndexName": "gix", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
    )  # fmt: skip
    d.put_item(TableName="t", Item=ITEM, ReturnValues="ALL_OLD")
    d.put_item(TableName="t", Item=ITEM, ReturnValues="ALL_OLD")
    d.get_item(TableName="t", Key=KEY)
    d.get_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "missing"}})
    d.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}},
            ReturnConsumedCapacity="TOTAL")  # fmt: skip
    d.query(TableName="t", IndexName="gix", KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "x"}}, Limit=1)  # fmt: skip
    d.batch_get_item(RequestItems={"t": {"Keys": [KEY, {"pk": {"S": "a"}, "sk": {"S": "9"}}]}})
    d.update_item(TableName="t", Key=KEY, UpdateExpression="SET n = n + :o",
                  ExpressionAttributeValues={":o": {"N": "1"}}, ReturnValues="ALL_NEW")  # fmt: skip
    d.update_item(TableName="t", Key=KEY, UpdateExpression="SET n = n + :o",
                  ExpressionAttributeValues={":o": {"N": "1"}}, ReturnValues="UPDATED_OLD")  # fmt: skip
    d.update_item(
        TableName="t", Key=KEY, UpdateExpression="SET n = :o", ExpressionAttributeValues={":o": {"N": "3"}}
    )
    d.batch_write_item(
        RequestItems={
            "t": [{"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"S": str(i)}}}} for i in range(3)]
        }
    )
    d.transact_write_items(
        TransactItems=[{"Put": {"TableName": "t", "Item": {"pk": {"S": "c"}, "sk": {"S": "1"}}}}]
    )
    d.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": KEY}}])
    d.delete_item(TableName="t", Key={"pk": {"S": "c"}, "sk": {"S": "1"}}, ReturnValues="ALL_OLD")
    streams = client("dynamodbstreams", url)
    arn = table["TableDescription"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    assert streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert set(seen) == PLAIN_JSON


def test_eventbridge_paths_are_compiled_once_and_targets_get_the_same_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import jsonpath_ng.ext
    from moto.events.utils import EventTemplateParser

    from chorus.local.motoserver import _events_paths_compiled_once

    event: Any = {"version": "0", "id": "e-1", "detail-type": "InboxItemReceived", "source": "chorus.inbox",
                  "account": "123456789012", "time": "2026-11-23T18:00:00Z", "region": "us-east-1",
                  "resources": [], "detail": {"text": "好喝", "n": 1}, "ingestion-time": "1795436233"}  # fmt: skip
    transformer = {"InputTemplate": '{"t": "<text>"}', "InputPathsMap": {"text": "$.detail.text"}}
    before = [
        EventTemplateParser.parse(transformer["InputTemplate"], transformer["InputPathsMap"], event),  # type: ignore[arg-type]
    ]
    monkeypatch.setattr(jsonpath_ng.ext, "parse", jsonpath_ng.ext.parse)  # put back after the test
    _events_paths_compiled_once()
    assert jsonpath_ng.ext.parse("$.detail.text") is jsonpath_ng.ext.parse("$.detail.text")
    after = [
        EventTemplateParser.parse(transformer["InputTemplate"], transformer["InputPathsMap"], event),  # type: ignore[arg-type]
    ]
    assert after == before
    assert after[0] == {"t": "好喝"}
