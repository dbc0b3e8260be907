"""The inbox's channels as data: the README's table equals what the channels declare, each channel that
can reply names a sender that exists and matches its platform, and a conversation's channel follows from
the message that opened it."""

from __future__ import annotations

import re

import pytest

from chorus.inbox import channels
from chorus.inbox.normalized import MessageKind
from chorus.platforms import registry
from chorus.platforms.replies import ReplySender
from tests.support import REPO

START = "<!-- inbox-channels:start"
END = "<!-- inbox-channels:end -->"


def readme_rows() -> list[list[str]]:
    text = (REPO / "README.md").read_text()
    block = text[text.index(START) : text.index(END)]
    rows = [line for line in block.splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]


def declared_rows() -> list[list[str]]:
    return [
        [f"`{c.name}`", c.arrives, c.reply_via or "no reply from Chorus yet: answer on the platform",
         channels.window_text(c)]
        for c in channels.CHANNELS.values()
    ]  # fmt: skip


def test_the_readme_inbox_table_is_what_the_channels_declare() -> None:
    expected = "\n".join("| " + " | ".join(row) + " |" for row in declared_rows())
    assert readme_rows() == declared_rows(), f"README.md's inbox table should read:\n{expected}"


def test_every_platform_has_channels_and_every_reply_channel_a_real_sender() -> None:
    declared = {c.platform for c in channels.CHANNELS.values()}
    assert declared <= set(registry.PLATFORMS)
    assert {name for name, info in registry.PLATFORMS.items() if info.webhooks} <= declared
    for channel in channels.CHANNELS.values():
        assert (channel.sender is None) == (channel.reply_via is None), channel.name
        if channel.sender == channels.PUBLISHER:
            assert registry.PLATFORMS[channel.platform].publisher is not None, channel.name
        elif channel.sender is not None:
            sender = registry.adapter_class(channel.sender)
            assert isinstance(sender(), ReplySender), channel.name
            assert channel.sender.split(".")[0] in {channel.platform, "meta"}, channel.name


@pytest.mark.parametrize(
    ("platform", "kind", "channel"),
    [
        ("facebook", MessageKind.COMMENT, "facebook.comment"),
        ("facebook", MessageKind.REPLY, "facebook.comment"),
        ("facebook", MessageKind.MENTION, "facebook.comment"),
        ("facebook", MessageKind.DM, "messenger"),
        ("instagram", MessageKind.COMMENT, "instagram.comment"),
        ("instagram", MessageKind.MENTION, "instagram.mention"),
        ("instagram", MessageKind.DM, "instagram.dm"),
        ("x", MessageKind.MENTION, "x.post"),
        ("x", MessageKind.DM, "x.dm"),
        ("whatsapp", MessageKind.DM, "whatsapp"),
        ("wechat", MessageKind.DM, "wechat"),
        ("mastodon", MessageKind.DM, "mastodon.direct"),
        ("mastodon", MessageKind.REPLY, "mastodon"),
        ("bluesky", MessageKind.MENTION, "bluesky"),
        ("sandbox", "dm", "sandbox"),
    ],
)
def test_a_conversations_channel_follows_from_its_first_message(
    platform: str, kind: MessageKind | str, channel: str
) -> None:
    assert channels.name_for(platform, kind) == channel
    assert channels.get(channel).platform == platform


def test_an_unknown_channel_cannot_be_replied_on() -> None:
    unknown = channels.get("myspace.wall")
    assert (unknown.platform, unknown.can_reply) == ("myspace", False)


def test_every_window_reason_names_its_hours() -> None:
    for channel in channels.CHANNELS.values():
        if channel.window is not None:
            assert re.match(r"\d+ h", channels.window_text(channel)), channel.name
