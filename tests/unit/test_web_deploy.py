"""``make deploy`` puts the built web app in the stack's bucket: hashed assets cached a year, the page and
its config never, the page last; the config names what the stack's outputs say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chorus.local.webapp import web_config
from tests.unit.test_ship import TEMPLATE, deploy


class Bucket:
    def __init__(self) -> None:
        self.puts: list[dict[str, Any]] = []

    def put_object(self, **put: Any) -> None:
        self.puts.append(put)


def test_the_built_app_and_its_config_are_uploaded_with_their_caching(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "assets" / "index-abc123.js").write_text("export {}")
    (tmp_path / "assets" / "index-abc123.css").write_text("body{}")
    bucket = Bucket()
    config = web_config("wss://ws.example/Prod", "eu-west-1", "eu-west-1_pool", "client")
    written = deploy.publish_web(bucket, "web-bucket", tmp_path, config)
    assert written == ["assets/index-abc123.css", "assets/index-abc123.js", "index.html", "config.json"]
    by_key = {p["Key"]: p for p in bucket.puts}
    assert by_key["assets/index-abc123.js"]["CacheControl"] == "public, max-age=31536000, immutable"
    assert by_key["assets/index-abc123.js"]["ContentType"] == "text/javascript"
    assert by_key["index.html"]["CacheControl"] == "no-cache"
    assert json.loads(by_key["config.json"]["Body"]) == {
        "api_url": "/api",
        "ws_url": "wss://ws.example/Prod",
        "region": "eu-west-1",
        "user_pool_id": "eu-west-1_pool",
        "client_id": "client",
    }
    assert {p["Bucket"] for p in bucket.puts} == {"web-bucket"}


def test_the_stack_outputs_what_the_deploy_reads() -> None:
    outputs = TEMPLATE["Outputs"]
    assert {"WebAppUrl", "WebBucketName", "WebSocketUrl", "UserPoolId", "UserPoolClientId"} <= set(outputs)
    behaviours = TEMPLATE["Resources"]["WebDistribution"]["Properties"]["DistributionConfig"][
        "CacheBehaviors"
    ]
    assert {b["PathPattern"] for b in behaviours} == {"/api/*", "/config.json"}
