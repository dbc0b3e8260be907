"""Production wiring of listening's ports: the per-workspace sentiment switch with its Comprehend
adapter (a boto3 client made here, on the first message of a workspace that enabled Comprehend)."""

from __future__ import annotations

from chorus.config import cached
from chorus.listening.scoring import WorkspaceSentiment
from chorus.listening.sentiment import SentimentAnalyzer


def comprehend_analyzer() -> SentimentAnalyzer:
    """Amazon Comprehend with a client for the hot path: short timeouts and one retry, so a slow or
    failing service costs a message seconds at most before the offline analyzer scores it."""
    import boto3
    from botocore.config import Config

    from chorus.config import get_settings
    from chorus.listening.sentiment import ComprehendSentimentAnalyzer
    from chorus.listening.sentiment.language import confident_language

    client = boto3.session.Session().client(
        "comprehend",
        region_name=get_settings().region,
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}),
    )
    return ComprehendSentimentAnalyzer(client, language_hint=confident_language)


@cached
def workspace_sentiment() -> WorkspaceSentiment:
    from chorus.listening.sentiment import default_analyzer

    return WorkspaceSentiment(default_analyzer(), comprehend=comprehend_analyzer)
