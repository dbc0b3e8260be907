import json
import os
import time
import uuid

import boto3

_ddb = boto3.client("dynamodb")


def record(kind: str, data: object) -> None:
    _ddb.put_item(
        TableName=os.environ["LOG_TABLE"],
        Item={
            "pk": {"S": kind},
            "sk": {"S": f"{time.time_ns():020d}-{uuid.uuid4().hex}"},
            "data": {"S": json.dumps(data)},
        },
    )
