"""Where finished reports go: files in S3 (presigned links), the jobs queue, and e-mail through SES.

Ports with a production adapter and an in-memory fake each; only the adapters touch boto3.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from pydantic_settings import BaseSettings, SettingsConfigDict

from chorus.config import cached, get_settings
from chorus.mail import Mailer, SesMailer

PRESIGN_SECONDS = 3600


class ReportSettings(BaseSettings):
    """Report delivery settings (environment, prefix ``CHORUS_``; see template.yaml)."""

    model_config = SettingsConfigDict(env_prefix="CHORUS_", extra="ignore")

    reports_sender: str = ""  # the verified SES identity e-mailed reports come from; empty: no e-mail
    reports_sync_max_days: int = 93  # longer ranges are built asynchronously


@cached
def report_settings() -> ReportSettings:
    return ReportSettings()


# ------------------------------------------------------------------ files


class ReportFiles(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...

    def link(self, key: str, filename: str, expires_s: int = PRESIGN_SECONDS) -> str: ...


class InMemoryReportFiles:
    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.files[key] = (body, content_type)

    def link(self, key: str, filename: str, expires_s: int = PRESIGN_SECONDS) -> str:
        return f"memory://{key}?filename={filename}&expires={expires_s}"


class S3ReportFiles:
    """Adapter: the ReportsBucket; links are presigned GETs that download under the report's name."""

    def __init__(self, bucket: str | None = None, client: Any = None) -> None:
        self.bucket = bucket or get_settings().reports_bucket
        if client is None:
            from chorus.aws import client as aws_client

            client = aws_client("s3")
        self._client = client

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def link(self, key: str, filename: str, expires_s: int = PRESIGN_SECONDS) -> str:
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=expires_s,
        )
        return url


# ------------------------------------------------------------------ jobs queue


class JobQueue(Protocol):
    def send(self, workspace_id: str, job_id: str) -> None: ...


class InMemoryJobQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, workspace_id: str, job_id: str) -> None:
        self.sent.append((workspace_id, job_id))


class SqsJobQueue:
    def __init__(self, queue_url: str | None = None, client: Any = None) -> None:
        self.queue_url = queue_url or get_settings().reports_queue_url
        if client is None:
            from chorus.aws import client as aws_client

            client = aws_client("sqs")
        self._client = client

    def send(self, workspace_id: str, job_id: str) -> None:
        self._client.send_message(QueueUrl=self.queue_url, MessageBody=job_message(workspace_id, job_id))


def job_message(workspace_id: str, job_id: str) -> str:
    return json.dumps({"workspace_id": workspace_id, "job_id": job_id})


def parse_job_message(body: str) -> tuple[str, str]:
    data = json.loads(body)
    return str(data["workspace_id"]), str(data["job_id"])


def default_mailer() -> Mailer | None:
    """SES from ``CHORUS_REPORTS_SENDER``; None when no sender is configured (e-mail is off)."""
    sender = report_settings().reports_sender
    return SesMailer(sender) if sender else None
