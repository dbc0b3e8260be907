from common import record


def handler(event, context):
    bodies = [r["body"] for r in event["Records"]]
    record("batch", {"size": len(bodies), "bodies": bodies})
    if any(b == "crash" for b in bodies):
        raise RuntimeError("crash requested")
    failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"].startswith("fail")]
    for r in event["Records"]:
        record("receive", {"body": r["body"], "count": r["attributes"]["ApproximateReceiveCount"]})
    return {"batchItemFailures": failures}
