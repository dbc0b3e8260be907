"""The browser uploads media straight to the bucket (the web composer): a cross-origin PUT to the
presigned URL of ``POST /media`` is allowed by the media bucket's CORS rule as template.yaml declares it,
which the local runtime applies to its bucket and answers as S3 does (the preflight unsigned, by the
bucket's rules only; a bucket without a CORS rule lets no other origin in)."""

from __future__ import annotations

from typing import Any

import requests

from chorus.local.template import load_yaml
from tests.integration.harness import REPO, Chorus

ORIGIN = "https://app.example.com"


def declared_rule() -> dict[str, Any]:
    resources = load_yaml(REPO / "template.yaml")["Resources"]
    [rule] = resources["MediaBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    return dict(rule)


def preflight(url: str, origin: str = ORIGIN) -> requests.Response:
    return requests.options(
        url,
        headers={"Origin": origin, "Access-Control-Request-Method": "PUT",
                 "Access-Control-Request-Headers": "content-type"},
        timeout=30,
    )  # fmt: skip


def test_a_presigned_upload_from_the_web_apps_origin_is_allowed_by_the_declared_rule(chorus: Chorus) -> None:
    _, key = chorus.workspace("Uploads")
    made = chorus.call("POST", "/media", key, json={"filename": "a.png", "mime_type": "image/png", "size": 3})
    assert made.status_code == 201, made.text
    url = made.json()["upload_url"]
    rule = declared_rule()

    answer = preflight(url)  # the browser's preflight: no signature of its own, no Content-Type
    assert answer.status_code == 200, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert answer.headers["Access-Control-Allow-Methods"] == ", ".join(rule["AllowedMethods"])
    assert "PUT" in rule["AllowedMethods"]
    assert answer.headers["Access-Control-Max-Age"] == str(rule["MaxAge"])
    assert answer.headers["Access-Control-Allow-Headers"] == ", ".join(rule["AllowedHeaders"])
    assert [h.lower() for h in rule["AllowedHeaders"]] == ["content-type"]  # what the composer's PUT sends

    put = requests.put(url, data=b"png", headers={"Origin": ORIGIN, "Content-Type": "image/png"}, timeout=30)
    assert put.status_code == 200, put.text
    assert put.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_a_bucket_without_a_cors_rule_lets_no_other_origin_in(chorus: Chorus) -> None:
    s3 = chorus.rt.client("s3")
    s3.create_bucket(Bucket="no-cors-here")
    s3.put_object(Bucket="no-cors-here", Key="file.txt", Body=b"x", ContentType="text/plain")
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "no-cors-here", "Key": "file.txt", "ContentType": "text/plain"}
    )
    answer = preflight(url)
    assert "Access-Control-Allow-Origin" not in answer.headers
    put = requests.put(url, data=b"y", headers={"Origin": ORIGIN, "Content-Type": "text/plain"}, timeout=30)
    assert "Access-Control-Allow-Origin" not in put.headers
