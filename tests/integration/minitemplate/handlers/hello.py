import json


def handler(event, context):
    if event["resource"] == "/echo":
        return {"statusCode": 201, "headers": {"Content-Type": "application/json"}, "body": event["body"]}
    name = event["pathParameters"]["name"]
    shout = (event.get("queryStringParameters") or {}).get("shout")
    text = f"hello {name}" + ("!" if shout else "")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"text": text}),
    }
