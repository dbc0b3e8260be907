from common import record


def handler(event, context):
    record(event.get("kind") or event.get("detail-type", "event"), event)


def stream_handler(event, context):
    for r in event["Records"]:
        record("stream", {"name": r["eventName"], "keys": r["dynamodb"]["Keys"]})


def refuse(event, context):
    record("refused", event)
    raise RuntimeError("this target refuses every event")
