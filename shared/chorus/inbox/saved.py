"""Variables of saved replies: ``{first_name}``, ``{name}``, ``{handle}`` (the person the conversation is
with, from their latest message), ``{account}`` (the workspace's account answering) and ``{platform}``.

A saved reply may use only these (saving one with another is a 422 naming them). When a reply is made
from it, each is filled from the conversation; ``{first_name}`` falls back to the handle when the
platform gives no name. A value that the conversation does not have at all is a 422 naming the
variable, so nobody sends "Hi ," by mistake: the agent writes that reply by hand."""

from __future__ import annotations

import re
from collections.abc import Mapping

from chorus.errors import ValidationFailed

VARIABLES = ("first_name", "name", "handle", "account", "platform")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def unknown(text: str) -> list[str]:
    """The placeholders of ``text`` that are not saved-reply variables, in order of first use."""
    return list(dict.fromkeys(n for n in PLACEHOLDER.findall(text) if n not in VARIABLES))


def check(text: str) -> None:
    found = unknown(text)
    if found:
        raise ValidationFailed.on(
            "text", f"unknown variable(s) {', '.join(found)}; use {', '.join(VARIABLES)}", "variables"
        )


def values_for(
    author_name: str | None, author_handle: str | None, account: str, platform: str
) -> dict[str, str]:
    """The variables' values in a conversation (a value it does not have is left out)."""
    handle = (author_handle or "").strip()
    name = (author_name or "").strip()
    values = {"account": account, "platform": platform}
    if handle:
        values["handle"] = (
            handle if handle.startswith("@") or platform in ("wechat", "whatsapp") else f"@{handle}"
        )
    if name:
        values["name"] = name
        values["first_name"] = name.split()[0]
    elif handle:
        values["first_name"] = handle.lstrip("@")
    return values


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with its variables replaced by ``values`` (422 naming a variable without a value)."""
    check(text)
    missing = list(dict.fromkeys(n for n in PLACEHOLDER.findall(text) if not values.get(n)))
    if missing:
        raise ValidationFailed.on(
            "saved_reply_id",
            f"this conversation has no {', '.join(missing)} to fill the saved reply with; write the reply by hand",
            "variables",
        )
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
