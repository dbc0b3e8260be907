"""Delivers webhooks to the receiver's handler from a process of its own, as Lambda runs it: the
acknowledgement time is the handler's (signature check and SQS enqueue), not time spent waiting for
the interpreter lock the ingest workers hold in the benchmark's process.

    python bench/webhook_sender.py EVENTS.jsonl SENDERS OUT.json

EVENTS.jsonl: one JSON object per line, {"id": ..., "event": <API Gateway proxy event>}.
OUT.json: [{"id", "sent_at" (wall clock, s), "ack_ms", "status"}].
The environment (AWS endpoints, function settings) is the embedded runtime's, inherited.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def main(events_path: str, senders: int, out_path: str) -> None:
    from chorus.local.functions import LambdaContext

    spec = importlib.util.spec_from_file_location("webhook_receiver", ROOT / "functions/webhooks/app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = [json.loads(line) for line in Path(events_path).read_text().splitlines() if line]
    context = LambdaContext("webhooks", 256, "arn:aws:lambda:us-east-1:123456789012:function:webhooks", 10)
    module.handler(lines[0]["event"], context)  # warm: imports, the SQS client (not counted)

    def deliver(item: dict[str, Any]) -> dict[str, Any]:
        sent_at = time.time()
        start = time.perf_counter()
        reply = module.handler(item["event"], context)
        took = (time.perf_counter() - start) * 1000
        return {"id": item["id"], "sent_at": sent_at, "ack_ms": took, "status": reply["statusCode"]}

    with ThreadPoolExecutor(senders) as pool:
        results = list(pool.map(deliver, lines[1:]))
    Path(out_path).write_text(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
