"""Where finished reports go: files in S3 (presigned links), the jobs queue, and e-mail through SES.

Ports with a production adapter and an in-memory fake each; only the adapters touch boto3.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import encoders
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any, Protocol

from pydantic_settings import BaseSettings, SettingsConfigDict

from chorus.config import cached, get_settings

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


# ------------------------------------------------------------------ e-mail


@dataclass(frozen=True)
class Email:
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    attachment: tuple[str, str, bytes] | None = None  # filename, content type, body


class Mailer(Protocol):
    def send(self, email: Email) -> str: ...


@dataclass
class InMemoryMailer:
    sent: list[Email] = field(default_factory=list)

    def send(self, email: Email) -> str:
        self.sent.append(email)
        return f"mem-{len(self.sent)}"


class SesMailer:
    """Adapter: SES ``SendRawEmail`` (a raw MIME message is the only way SES v1 attaches a file)."""

    def __init__(self, sender: str, client: Any = None) -> None:
        self.sender = sender
        if client is None:
            from chorus.aws import client as aws_client

            client = aws_client("ses")
        self._client = client

    def send(self, email: Email) -> str:
        message = mime_message(self.sender, email)
        answer = self._client.send_raw_email(
            Source=self.sender,
            Destinations=list(email.recipients),
            RawMessage={"Data": message.as_bytes()},
        )
        return str(answer["MessageId"])


def mime_message(sender: str, email: Email) -> MIMEMultipart:
    message = MIMEMultipart("mixed")
    message["Subject"] = email.subject
    message["From"] = sender
    message["To"] = ", ".join(email.recipients)
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(email.text, "plain", "utf-8"))
    body.attach(MIMEText(email.html, "html", "utf-8"))
    message.attach(body)
    if email.attachment:
        filename, content_type, data = email.attachment
        maintype, _, subtype = content_type.split(";")[0].strip().partition("/")
        part = MIMEBase(maintype or "application", subtype or "octet-stream")
        part.set_payload(data)
        encoders.encode_base64(part)
        part.add_header("Content-Disposition", "attachment", filename=filename)
        message.attach(part)
    return message


def recipients_valid(recipients: Sequence[str]) -> list[str]:
    """The addresses that do not look like e-mail addresses (empty when all do)."""
    return [r for r in recipients if "@" not in r or r.startswith("@") or r.endswith("@") or " " in r]


def default_mailer() -> Mailer | None:
    """SES from ``CHORUS_REPORTS_SENDER``; None when no sender is configured (e-mail is off)."""
    sender = report_settings().reports_sender
    return SesMailer(sender) if sender else None
