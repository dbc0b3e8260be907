"""E-mail through SES: scheduled reports and invitations. A port (``Mailer``), the SES adapter and an
in-memory fake; only the adapter touches boto3."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from email import encoders
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any, Protocol


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


__all__ = ["Email", "InMemoryMailer", "Mailer", "SesMailer", "mime_message", "recipients_valid"]
