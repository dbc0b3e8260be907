"""Links at publish time, and the redirect.

:func:`published_content` is what the publisher sends for one target: every link of the account's
content UTM-tagged (source = the platform, medium, campaign, content = the post or its variant, term)
and, when the workspace shortens links, swapped for a short link of its own per post x account, so each
platform's clicks are counted apart. The short link is stored (code and tagged destination) before the
first platform call and found again by every retry and verify, which therefore publish the very same text.

:func:`follow` is ``GET /l/{code}``: a person's click is one UpdateItem that counts it and reads the
destination (on condition the link exists and is enabled); a bot or link-preview fetcher is one
GetItem, redirected without being counted."""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from chorus.config import get_settings
from chorus.errors import ChorusError, NotFound, ValidationFailed
from chorus.links import clicks, store
from chorus.links.store import ShortLink
from chorus.links.utm import UtmDefaults, check_values, links_in, replace_links, tag, values_for
from chorus.net.fetch import url_problem
from chorus.posts.model import Content, Post, Target

ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 10  # 62**10 ~ 8e17 codes, drawn by a CSPRNG: not guessable, not enumerable
MAX_LINKS = 10  # short links per post and account
DRAWS = 5  # codes drawn before giving up (a collision is one in 62**10; a refusal is the table's)


class Gone(ChorusError):
    status = 410
    title = "Gone"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def is_code(value: str) -> bool:
    return len(value) == CODE_LENGTH and all(c in ALPHABET for c in value)


def base_url() -> str:
    """Where ``/l/{code}`` is served: the embedded runtime's API, else the configured short-link base."""
    settings = get_settings()
    if settings.embedded and settings.api_url:
        return settings.api_url.rstrip("/")
    return (settings.short_link_base or settings.api_url).rstrip("/")


def defaults(workspace_id: str) -> UtmDefaults:
    return UtmDefaults.from_dict(store.workspace_link_settings(workspace_id))


def set_defaults(workspace_id: str, raw: Mapping[str, object]) -> UtmDefaults:
    """Change the workspace's UTM defaults (``enabled``, ``shorten``, ``medium``, ``campaign``, ``term``)."""
    shorten = raw.get("shorten")
    values = check_values({k: v for k, v in raw.items() if k != "shorten"}, "links")
    if shorten is not None and not isinstance(shorten, bool):
        raise ValidationFailed.on("shorten", "true or false", "type")
    for name in ("source", "content"):
        if name in values:
            raise ValidationFailed.on(
                name, "set per post: the workspace default is the platform / the post", "per_post"
            )
    current = defaults(workspace_id).to_dict()
    merged = {
        **current,
        **{k: (v == "true" if k == "enabled" else v) for k, v in values.items()},
        **({"shorten": shorten} if shorten is not None else {}),
    }
    store.set_workspace_link_settings(workspace_id, merged)
    return UtmDefaults.from_dict(merged)


@dataclass(frozen=True)
class Prepared:
    content: Content
    links: tuple[ShortLink, ...] = ()


def published_content(post: Post, target: Target, now: datetime | None = None) -> Prepared:
    """The content published to ``target``'s account: links tagged and shortened (see the module)."""
    content = post.content_for(target.account_id)
    urls = links_in(content.link, content.text, *content.thread, content.first_comment)
    local = get_settings().embedded
    urls = [u for u in urls if url_problem(u, local=local) is None][:MAX_LINKS]
    if not urls:
        return Prepared(content)
    settings = defaults(post.workspace_id)
    campaign_name = ""
    if post.campaign_id:
        from chorus.campaigns import store as campaigns

        try:
            campaign_name = campaigns.get(post.workspace_id, post.campaign_id).utm_campaign
        except NotFound:
            campaign_name = ""
    variant = target.account_id in post.variants
    values = values_for(
        settings, post.utm, platform=target.platform, campaign=campaign_name,
        content=f"{post.id}-{target.account_id}" if variant else post.id,
    )  # fmt: skip
    tagged = {u: tag(u, values) if values else u for u in urls}
    base = base_url()
    if not settings.shorten or not base or _short_links_refused(target.platform, content, urls, base):
        return Prepared(_swap(content, tagged))
    made = _short_links(post, target, urls, tagged, base, now or datetime.now(UTC))
    return Prepared(_swap(content, {link.original: link.short_url for link in made}), tuple(made))


def _short_links_refused(platform: str, content: Content, urls: list[str], base: str) -> bool:
    """Whether short links would break a rule of the platform's own that the links themselves keep (Weibo
    publishes only a status linking under the app's safe domain): its links are then only tagged."""
    from chorus.posts.validation import PLATFORM_RULES

    rule = PLATFORM_RULES[platform].text_rule if platform in PLATFORM_RULES else None
    if rule is None:
        return False
    text = f"{content.text} {content.link or ''}"
    short = text
    for url in urls:
        short = short.replace(url, f"{base}/l/{'x' * CODE_LENGTH}")
    return rule(text) is None and rule(short) is not None


def _short_links(
    post: Post, target: Target, urls: list[str], tagged: Mapping[str, str], base: str, now: datetime
) -> list[ShortLink]:
    existing = {
        link.n: link
        for link in store.short_links_of(post.workspace_id, post.id, consistent=True)
        if link.account_id == target.account_id
    }
    made = []
    for n, url in enumerate(urls):
        link = existing.get(n)
        if link is not None and (link.original != url or link.destination != tagged[url]):
            link = store.set_destination(replace(link, campaign_id=post.campaign_id), tagged[url], url)
        for _ in range(DRAWS):
            if link is not None:
                break
            code = new_code()
            link = store.create(
                ShortLink(code, post.workspace_id, post.id, target.account_id, target.platform, post.campaign_id,
                          tagged[url], url, n, f"{base}/l/{code}"),
                now,
            )  # fmt: skip
        if (
            link is None
        ):  # the table refused every draw: the publish fails before any platform call, and retries
            raise RuntimeError(f"no short link could be stored for {target.id} link {n}")
        made.append(link)
    return made


def _swap(content: Content, replacements: Mapping[str, str]) -> Content:
    return replace(
        content,
        text=replace_links(content.text, replacements),
        link=replacements.get(content.link, content.link) if content.link else None,
        thread=tuple(replace_links(t, replacements) for t in content.thread),
        first_comment=replace_links(content.first_comment, replacements) if content.first_comment else None,
    )


# ---------------------------------------------------------------- the redirect


@dataclass(frozen=True)
class Click:
    user_agent: str | None
    referrer: str | None
    country: str | None  # CloudFront-Viewer-Country


def follow(code: str, click: Click, now: datetime | None = None) -> tuple[str, bool]:
    """(destination, counted) of a click on ``code``; NotFound for no such link, Gone when disabled."""
    if not is_code(code):
        raise NotFound(f"no short link {code}")
    if not clicks.is_bot(click.user_agent):
        at = now or datetime.now(UTC)
        where = clicks.referrer_platform(click.referrer)
        destination = store.count_click(code, at, where, clicks.country(click.country))
        if destination is not None:
            return destination, True
    found = store.resolve(code)  # a bot, or a link that is missing or disabled
    if found is None:
        raise NotFound(f"no short link {code}")
    if found[1]:
        raise Gone(f"short link {code} was disabled")
    return found[0], False


def post_links(workspace_id: str, post_id: str) -> list[dict[str, object]]:
    """A post's short links with their counted clicks (``GET /posts/{id}/links``)."""
    found = []
    for link in store.short_links_of(workspace_id, post_id):
        item = store.code_item(link.code)
        found.append(
            {
                "code": link.code,
                "short_url": link.short_url,
                "account_id": link.account_id,
                "platform": link.platform,
                "campaign_id": link.campaign_id,
                "destination": link.destination,
                "original": link.original,
                "disabled": bool(item.disabled) if item else False,
                **store.clicks_of(link.code).public(),
            }
        )
    return found


def set_disabled(workspace_id: str, code: str, disabled: bool) -> dict[str, object]:
    if not is_code(code):
        raise NotFound(f"short link {code} not found")
    store.set_disabled(workspace_id, code, disabled)
    return {"code": code, "disabled": disabled}
