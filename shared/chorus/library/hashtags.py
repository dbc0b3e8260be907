"""Hashtag groups: named, ordered sets of hashtags the composer adds to a post in one go, each shown
with how it fits every platform (the platform's hashtag limit, e.g. Instagram's 30, and its text length),
judged by the same rules a post is (``chorus.posts.validation``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import regex

from chorus.auth.keys import Principal, new_id
from chorus.errors import FieldError, ValidationFailed
from chorus.library import keys
from chorus.library import store as repo
from chorus.library.access import may_change
from chorus.posts.validation import PLATFORM_RULES, text_fitness
from chorus.store.pages import Page, PageRequest

TAG = regex.compile(r"[\p{L}\p{M}\p{N}_]{1,100}")
MAX_TAGS = 100


@dataclass(frozen=True)
class HashtagGroup:
    workspace_id: str
    id: str
    name: str
    hashtags: tuple[str, ...]
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def text(self) -> str:
        return " ".join(f"#{t}" for t in self.hashtags)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "hashtags": list(self.hashtags),
            "text": self.text,
            "fitness": fitness(self.hashtags),
            "created_by": self.created_by,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def normalize(raw: Sequence[str]) -> tuple[str, ...]:
    """The tags without their '#', each once (case-insensitively, first spelling kept), in order; a tag
    that is not letters, digits and _ is a 422 naming it."""
    errors: list[FieldError] = []
    kept: list[str] = []
    seen: set[str] = set()
    for i, tag in enumerate(raw):
        bare = tag.strip().lstrip("#")
        if not TAG.fullmatch(bare):
            errors.append(FieldError(f"hashtags[{i}]", "letters, digits and _ only (1-100)", "hashtag"))
        elif bare.casefold() not in seen:
            seen.add(bare.casefold())
            kept.append(bare)
    if not raw:
        errors.append(FieldError("hashtags", "at least one hashtag", "required"))
    if len(raw) > MAX_TAGS:
        errors.append(FieldError("hashtags", f"at most {MAX_TAGS}", "too_many"))
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    return tuple(kept)


def fitness(hashtags: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per platform: the number of tags, the platform's limit (None: none), and whether the group alone
    fits (its hashtag count and its length as text), with the rules it breaks."""
    text = " ".join(f"#{t}" for t in hashtags)
    found: dict[str, dict[str, Any]] = {}
    for platform, rules in sorted(PLATFORM_RULES.items()):
        broken = [{"rule": v.rule, "message": v.message} for v in text_fitness(platform, text)]
        found[platform] = {
            "count": len(hashtags),
            "limit": rules.max_hashtags,
            "fits": not broken,
            "problems": broken,
        }
    return found


def _from_item(item: repo.HashtagGroupItem) -> HashtagGroup:
    return HashtagGroup(
        item.workspace_id,
        item.group_id,
        item.name,
        tuple(item.hashtags or ()),
        item.created_by,
        item.created_at,
        item.updated_at,
    )


def create(principal: Principal, name: str, hashtags: Sequence[str]) -> HashtagGroup:
    may_change(principal)
    tags = normalize(hashtags)
    now = datetime.now(UTC)
    group_id = new_id("htg_")
    item = repo.HashtagGroupItem(
        keys.library_pk(principal.workspace_id),
        keys.hashtags_sk(group_id),
        workspace_id=principal.workspace_id,
        group_id=group_id,
        name=name,
        hashtags=list(tags),
        created_by=principal.actor,
        created_at=now,
        updated_at=now,
    )
    repo.put_new(item)
    return _from_item(item)


def get(principal: Principal, group_id: str) -> HashtagGroup:
    return _from_item(repo.get_group(principal.workspace_id, group_id))


def page(principal: Principal, request: PageRequest) -> Page[HashtagGroup]:
    return repo.mapped_page(
        repo.HashtagGroupItem, principal.workspace_id, keys.HASHTAGS_PREFIX, request, _from_item
    )


def update(principal: Principal, group_id: str, name: str, hashtags: Sequence[str]) -> HashtagGroup:
    may_change(principal)
    tags = normalize(hashtags)
    item = repo.get_group(principal.workspace_id, group_id)
    item.name, item.hashtags, item.updated_at = name, list(tags), datetime.now(UTC)
    repo.save(item)
    return _from_item(item)


def remove(principal: Principal, group_id: str) -> None:
    may_change(principal)
    repo.delete(repo.get_group(principal.workspace_id, group_id))
