"""The local moto server writes DynamoDB's item-carrying answers (and stream records) with json.dumps
and reads their requests with json.loads: the same body as moto's own serializer, the same parameters
as its parser, for every operation it does so and every attribute type."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.core.responses import ActionResult, BaseResponse
from moto.server import ThreadedMotoServer

from chorus.local.motoserver import PLAIN_JSON, converted_members, plain_json_body, plain_json_params

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
    parse = BaseResponse.parse_parameters

    def read_both(self: BaseResponse, request: Any) -> None:
        parse(self, request)
        converted = converted_members(self.boto3_service_name, self._get_action())
        if converted is not None and "json" in request.content_type:
            mine = plain_json_params(request.data, converted)
            if mine is None:
                seen.append(("left to moto", self._get_action()))
            else:
                assert mine == self.params, self._get_action()
                seen.append(("request", self._get_action()))

    def both(self: ActionResult, context: Any) -> Any:
        status, headers, body = serialize(self, context)
        key = (context.service_model.service_name, context.operation_model.name)
        if key in PLAIN_JSON:
            mine = plain_json_body(self.result, context.operation_model.output_shape.members)
            assert json.loads(mine) == json.loads(body), key
            seen.append(key)
        return status, headers, body

    monkeypatch.setattr(ActionResult, "execute_result", both)
    monkeypatch.setattr(BaseResponse, "parse_parameters", read_both)
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
    text = {k: v for k, v in ITEM.items() if k not in {"b", "bs"}}
    d.put_item(TableName="t", Item={**text, "sk": {"S": "2"}}, ConditionExpression="attribute_not_exists(pk)")
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
    answers = {key for key in seen if key in PLAIN_JSON}
    assert answers == PLAIN_JSON
    read = {op for kind, op in seen if kind == "request"}
    parsed = {op for service, op in PLAIN_JSON if service == "dynamodb"}  # streams: moto reads the JSON
    assert read >= parsed, "every operation had a request json.loads reads as moto's parser does"
    sqs = client("sqs", url)
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody='{"a": null, "b": [1.5, "B"]}', DelaySeconds=0,
                     MessageAttributes={"t": {"DataType": "String", "StringValue": "x"}})  # fmt: skip
    sqs.send_message(QueueUrl=queue, MessageBody="bin",
                     MessageAttributes={"b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})  # fmt: skip
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    sqs.delete_message_batch(
        QueueUrl=queue, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got["Messages"])]
    )  # fmt: skip
    assert converted_members("events", "PutEvents") == (b'"Time"',)  # (moto reads events' JSON itself)
    assert converted_members("sns", "Publish") is None  # the query protocol: moto's parser
    read = {op for kind, op in seen if kind == "request"}
    assert {"SendMessage", "ReceiveMessage", "DeleteMessageBatch", "CreateQueue"} <= read
    left = {op for kind, op in seen if kind == "left to moto"}
    assert {"PutItem", "SendMessage"} <= left, "binary values are moto's to read"


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


def test_conditions_parsed_once_decide_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError
    from moto import mock_aws
    from moto.dynamodb import models as ddb
    from moto.dynamodb.models import table

    from chorus.local.motoserver import _dynamodb_conditions_parsed_once

    def run() -> list[str]:
        outcomes: list[str] = []
        with mock_aws():
            d = boto3.client("dynamodb", region_name="us-east-1")
            d.create_table(
                TableName="t", BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            )  # fmt: skip
            calls: list[dict[str, Any]] = []
            for key in ("a", "b", "a"):  # the same condition, an item that exists or not
                calls.append({"Item": {"pk": {"S": key}, "v": {"N": "1"}}, "ConditionExpression": "attribute_not_exists(pk)"})  # fmt: skip
            for expected, new in ((1, 2), (1, 3), (2, 3), (2, 4), (3, 4)):  # one expression, values vary
                calls.append({"Item": {"pk": {"S": "a"}, "v": {"N": str(new)}}, "ConditionExpression": "#v = :v",
                              "ExpressionAttributeNames": {"#v": "v"},
                              "ExpressionAttributeValues": {":v": {"N": str(expected)}}})  # fmt: skip
            broken = {"Item": {"pk": {"S": "a"}}, "ConditionExpression": "#v = :v AND",
                      "ExpressionAttributeNames": {"#v": "v"}, "ExpressionAttributeValues": {":v": {"N": "4"}}}  # fmt: skip
            calls += [broken, broken]  # cannot be parsed, nor the second time
            for call in calls:
                try:
                    d.put_item(TableName="t", **call)
                    outcomes.append("put")
                except ClientError as e:
                    outcomes.append(e.response["Error"]["Code"])
                except ValueError as e:  # moto's parser raises it through for an expression it cannot read
                    outcomes.append(type(e).__name__)
            for version in (1, 3, 4):
                try:
                    d.transact_write_items(TransactItems=[{"ConditionCheck": {
                        "TableName": "t", "Key": {"pk": {"S": "a"}}, "ConditionExpression": "v = :v",
                        "ExpressionAttributeValues": {":v": {"N": str(version)}}}}])  # fmt: skip
                    outcomes.append("checked")
                except ClientError as e:
                    outcomes.append(e.response["Error"]["Code"])
            outcomes.append(json.dumps(d.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]))
        return outcomes

    expected = run()
    monkeypatch.setattr(ddb, "get_filter_expression", ddb.get_filter_expression)  # put back after
    monkeypatch.setattr(table, "get_filter_expression", table.get_filter_expression)
    _dynamodb_conditions_parsed_once()
    assert ddb.get_filter_expression is table.get_filter_expression  # both of moto's callers see it
    assert run() == expected
    assert expected[:8] == ["put", "put", "ConditionalCheckFailedException", "put", "ConditionalCheckFailedException",
                            "put", "ConditionalCheckFailedException", "put"]  # fmt: skip
    assert expected[8:10] == ["ValueError"] * 2
    assert expected[10:13] == ["TransactionCanceledException", "TransactionCanceledException", "checked"]


def test_a_body_json_loads_cannot_read_as_moto_does_is_left_to_moto() -> None:
    converted = (b'"B"',)
    assert plain_json_params(b'{"a": "null", "b": [null, 1]}', converted) == {"a": "null", "b": [None, 1]}
    assert plain_json_params(b'{"a": {"b": null}}', converted) is None  # moto drops members sent as null
    assert plain_json_params(b'{"Item": {"x": {"B": "AAE="}}}', converted) is None  # base64 it decodes
    assert plain_json_params(b'{"a": ', converted) is None  # not JSON: its parser answers
    assert plain_json_params(b"[1]", converted) is None
    assert plain_json_params(b"", converted) == {}
