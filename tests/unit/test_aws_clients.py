"""The DynamoDB client chorus.aws makes writes attribute values as they are: the same request body,
byte for byte, as botocore's own serializer, for every attribute type, nested, binary included."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.serialize import create_serializer

from chorus.aws import attribute_values_as_they_are

ITEM = {
    "pk": {"S": "a"}, "n": {"N": "1.50"}, "ns": {"NS": ["1", "2"]}, "ss": {"SS": ["a", "b"]}, "e": {"S": ""},
    "t": {"BOOL": True}, "z": {"NULL": True},
    "m": {"M": {"l": {"L": [{"S": "q"}, {"NULL": True}, {"BOOL": False}, {"M": {"x": {"N": "2"}}}]}}},
}  # fmt: skip
BINARY = {"b": {"B": b"\x00\x01bin"}, "bs": {"BS": [b"x", b"y"]},
          "deep": {"M": {"l": {"L": [{"S": "q"}, {"B": b"\xff"}]}}}}  # fmt: skip
REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("PutItem", {"TableName": "t", "Item": ITEM, "ConditionExpression": "attribute_not_exists(pk)"}),
    ("PutItem", {"TableName": "t", "Item": {**ITEM, **BINARY}}),
    ("UpdateItem", {"TableName": "t", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "ADD n :o",
                    "ExpressionAttributeValues": {":o": {"N": "1"}, ":b": {"B": b"1"}}}),
    ("Query", {"TableName": "t", "KeyConditionExpression": "pk = :p", "Limit": 5,
               "ExpressionAttributeValues": {":p": {"S": "a"}}, "ExclusiveStartKey": {"pk": {"S": "a"}}}),
    ("BatchGetItem", {"RequestItems": {"t": {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}],
                                            "ConsistentRead": True}}}),
    ("TransactWriteItems", {"ClientRequestToken": "tok", "TransactItems": [
        {"Put": {"TableName": "t", "Item": ITEM, "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Put": {"TableName": "t", "Item": {**ITEM, **BINARY}}},
        {"Update": {"TableName": "t", "Key": {"pk": {"S": "c"}}, "UpdateExpression": "ADD n :o",
                    "ExpressionAttributeValues": {":o": {"N": "1"}}}},
        {"Delete": {"TableName": "t", "Key": {"pk": {"S": "d"}}}},
    ]}),
]  # fmt: skip


@pytest.mark.parametrize(("operation", "params"), REQUESTS)
def test_the_request_body_is_botocores_byte_for_byte(operation: str, params: dict[str, Any]) -> None:
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="a",
        aws_secret_access_key="b",
        config=Config(parameter_validation=False),  # as chorus.aws makes them
    )
    stock = create_serializer("json", include_validation=False)
    model = client.meta.service_model.operation_model(operation)
    expected = stock.serialize_to_request(params, model)["body"]
    assert type(client._serializer) is type(stock)
    attribute_values_as_they_are(client)
    assert type(client._serializer).__name__ == "PlainAttributeValues"  # ours now, not botocore's
    assert client._serializer.serialize_to_request(params, model)["body"] == expected


def test_clients_are_made_once_per_process_and_again_after_a_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    from chorus.aws import client
    from chorus.config import reset_caches

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    reset_caches()
    first = client("sqs")
    assert client("sqs") is first
    assert first.meta.endpoint_url == "http://127.0.0.1:1"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:2")  # another runtime, another endpoint
    reset_caches()
    assert client("sqs").meta.endpoint_url == "http://127.0.0.1:2"
    reset_caches()
