import os

import boto3
from common import record


def handler(event, context):
    ctx = event["requestContext"]
    route = ctx["routeKey"]
    if route == "$connect":
        token = (event.get("queryStringParameters") or {}).get("token")
        if token != "ok":
            return {"statusCode": 401, "body": "bad token"}
        record("connect", ctx["connectionId"])
        return {"statusCode": 200}
    if route == "$disconnect":
        record("disconnect", ctx["connectionId"])
        return {"statusCode": 200}
    client = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["WS_CALLBACK"])
    client.post_to_connection(ConnectionId=ctx["connectionId"], Data=("echo:" + event["body"]).encode())
    return {"statusCode": 200}
