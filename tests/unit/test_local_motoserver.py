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


def test_two_concurrent_sqs_deletes_both_stick(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto rebuilt a queue's list on delete without a lock: a delete finishing while another was
    rebuilding came back as a message in flight (delivered again after its visibility timeout)."""
    import threading

    from moto import mock_aws
    from moto.sqs import models as sqs

    from chorus.local.motoserver import _sqs_queue_changes_locked

    monkeypatch.setattr(sqs.Queue, "delete_message", sqs.Queue.delete_message)  # put back after the test
    monkeypatch.setattr(sqs.SQSBackend, "receive_message", sqs.SQSBackend.receive_message)
    _sqs_queue_changes_locked()
    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        url = client.create_queue(QueueName="q")["QueueUrl"]
        for body in ("a", "b", "c"):
            client.send_message(QueueUrl=url, MessageBody=body)
        handles = {
            m["Body"]: m["ReceiptHandle"]
            for m in client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        }
        checks = sqs.Message.had_receipt_handle
        other: list[threading.Thread] = []

        def racing(self: Any, handle: str) -> bool:
            if handle == handles["a"] and self.body == "c" and not other:  # "a"'s delete, mid-rebuild
                other.append(
                    threading.Thread(
                        target=client.delete_message, kwargs={"QueueUrl": url, "ReceiptHandle": handles["b"]}
                    )
                )
                other[0].start()
                other[0].join(0.3)  # with the lock it waits for this delete to finish
            return bool(checks(self, handle))

        monkeypatch.setattr(sqs.Message, "had_receipt_handle", racing)
        client.delete_message(QueueUrl=url, ReceiptHandle=handles["a"])
        other[0].join()
        left = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (left["ApproximateNumberOfMessages"], left["ApproximateNumberOfMessagesNotVisible"]) == (
            "0",
            "1",
        )  # "c" only


def test_a_batch_delete_in_one_pass_answers_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws
    from moto.sqs import models as sqs

    from chorus.local.motoserver import _sqs_queue_changes_locked

    def run() -> tuple[Any, Any, list[str]]:
        with mock_aws():
            client = boto3.client("sqs", region_name="us-east-1")
            url = client.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
            for body in ("a", "b", "c", "d"):
                client.send_message(QueueUrl=url, MessageBody=body)
            first = {
                m["Body"]: m["ReceiptHandle"]
                for m in client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
            }
            again = {
                m["Body"]: m["ReceiptHandle"]
                for m in client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
            }
            client.delete_message(QueueUrl=url, ReceiptHandle=again["d"])
            entries = [
                {"Id": "new-a", "ReceiptHandle": again["a"]},
                {"Id": "old-b", "ReceiptHandle": first["b"]},  # an earlier handle of a message still works
                {"Id": "old-a", "ReceiptHandle": first["a"]},  # the same message twice
                {"Id": "gone-d", "ReceiptHandle": first["d"]},  # deleted before: settled
                {"Id": "bogus", "ReceiptHandle": "not-a-handle"},
            ]
            answer = client.delete_message_batch(QueueUrl=url, Entries=entries)
            left = sorted(
                m["Body"] for m in client.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
            )
            return (
                sorted(x["Id"] for x in answer["Successful"]),
                sorted((x["Id"], x["Code"]) for x in answer["Failed"]),
                left,
            )

    moto_answers = run()
    monkeypatch.setattr(sqs.Queue, "delete_message", sqs.Queue.delete_message)  # put back after the test
    monkeypatch.setattr(sqs.SQSBackend, "receive_message", sqs.SQSBackend.receive_message)
    monkeypatch.setattr(sqs.SQSBackend, "delete_message_batch", sqs.SQSBackend.delete_message_batch)
    _sqs_queue_changes_locked()
    assert run() == moto_answers
    assert moto_answers == (
        ["gone-d", "new-a", "old-a", "old-b"],
        [("bogus", "ReceiptHandleIsInvalid")],
        ["c"],
    )


def test_items_sized_once_are_refused_and_kept_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import dynamo_type as dt

    from chorus.local.motoserver import _dynamodb_items_sized_once

    attrs = {
        "pk": {"S": "p"},
        "sk": {"S": "s"},
        "n": {"N": "1"},
        "l": {"L": [{"S": "x"}, {"M": {"a": {"BOOL": True}}}]},
    }
    big = {**attrs, **{f"a{i}": {"S": "x" * 50_000} for i in range(9)}}  # 450 KB: over
    near = {**attrs, **{f"a{i}": {"S": "x" * 50_000} for i in range(8)}}  # 400 KB: under

    def built(item_attrs: dict[str, Any]) -> Any:
        try:
            item = dt.Item(dt.DynamoType({"S": "p"}), dt.DynamoType({"S": "s"}), item_attrs)
        except ItemSizeTooLarge:
            return "too large"
        return item.to_json(), type(item.attrs).__name__

    expected = [built(a) for a in (attrs, big, near)]
    monkeypatch.setattr(dt.Item, "__init__", dt.Item.__init__)  # put back after the test
    _dynamodb_items_sized_once()
    assert [built(a) for a in (attrs, big, near)] == expected
    assert [e == "too large" for e in expected] == [False, True, False]
