"""Routes: the content library - templates (and rendering one for the composer), hashtag groups, and the
media library (search, tags, usage, platform fitness, delete). Uploads start at ``POST /media``."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from chalice.app import Blueprint, Response
from chalicelib.web import body, ok, principal, query, route, within_bytes
from chorus.auth.roles import Role
from chorus.library import hashtags, media, templates
from chorus.store.pages import PageRequest

bp = Blueprint(__name__)

MAX_TEXT = 20_000  # a template's text or variant: above every platform's longest post
MAX_TEMPLATE_BYTES = 256 * 1024


class VariableIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    default: str | None = Field(default=None, max_length=2000)
    description: str = Field(default="", max_length=500)


class TemplateIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=r"\S")  # not blank
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    variables: list[VariableIn] = Field(default_factory=list, max_length=templates.MAX_VARIABLES)
    variants: dict[str, Annotated[str, Field(max_length=MAX_TEXT)]] = Field(
        default_factory=dict, max_length=20
    )
    version: int | None = Field(default=None, ge=1)  # for edits: the version the client last saw

    def parts(self) -> tuple[str, str, tuple[templates.Variable, ...], dict[str, str]]:
        within_bytes(self, MAX_TEMPLATE_BYTES)  # one DynamoDB item (400 KB) with its other attributes
        variables = tuple(templates.Variable(v.name, v.default, v.description) for v in self.variables)
        return self.name.strip(), self.text, variables, dict(self.variants)


class RenderIn(BaseModel):
    variables: dict[str, Annotated[str, Field(max_length=MAX_TEXT)]] = Field(
        default_factory=dict, max_length=templates.MAX_VARIABLES
    )


class HashtagGroupIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=r"\S")  # not blank
    hashtags: list[str] = Field(min_length=1, max_length=hashtags.MAX_TAGS)


class MediaEdit(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    tags: list[str] | None = Field(default=None, max_length=media.MAX_TAGS)


@route(bp, "/templates", methods=["GET"])
def list_templates() -> Response:
    found = templates.page(principal(), PageRequest.from_query(query(bp.current_request)))
    return ok({"templates": [t.public() for t in found.items], "next_cursor": found.next_cursor})


@route(bp, "/templates", methods=["POST"])
def create_template() -> Response:
    who = principal(Role.CONTRIBUTOR)
    name, text, variables, variants = body(bp.current_request, TemplateIn).parts()
    return ok(templates.create(who, name, text, variables, variants).public(), status=201)


@route(bp, "/templates/{template_id}", methods=["GET"])
def get_template(template_id: str) -> Response:
    return ok(templates.get(principal(), template_id).public())


@route(bp, "/templates/{template_id}", methods=["PUT"])
def edit_template(template_id: str) -> Response:
    who = principal(Role.CONTRIBUTOR)
    req = body(bp.current_request, TemplateIn)
    name, text, variables, variants = req.parts()
    return ok(templates.update(who, template_id, name, text, variables, variants, req.version).public())


@route(bp, "/templates/{template_id}", methods=["DELETE"])
def delete_template(template_id: str) -> Response:
    templates.remove(principal(Role.CONTRIBUTOR), template_id)
    return Response(body="", status_code=204)


@route(bp, "/templates/{template_id}/render", methods=["POST"])
def render_template(template_id: str) -> Response:
    """The template's text and per-platform variants with the values given (defaults for the rest), and
    the text rules each platform's rendered text breaks; a value for an undeclared variable is a 422."""
    req = body(bp.current_request, RenderIn)
    return ok(templates.render(principal(), template_id, req.variables).public())


@route(bp, "/hashtag-groups", methods=["GET"])
def list_hashtag_groups() -> Response:
    found = hashtags.page(principal(), PageRequest.from_query(query(bp.current_request)))
    return ok({"hashtag_groups": [g.public() for g in found.items], "next_cursor": found.next_cursor})


@route(bp, "/hashtag-groups", methods=["POST"])
def create_hashtag_group() -> Response:
    who = principal(Role.CONTRIBUTOR)
    req = body(bp.current_request, HashtagGroupIn)
    return ok(hashtags.create(who, req.name.strip(), req.hashtags).public(), status=201)


@route(bp, "/hashtag-groups/{group_id}", methods=["GET"])
def get_hashtag_group(group_id: str) -> Response:
    return ok(hashtags.get(principal(), group_id).public())


@route(bp, "/hashtag-groups/{group_id}", methods=["PUT"])
def edit_hashtag_group(group_id: str) -> Response:
    who = principal(Role.CONTRIBUTOR)
    req = body(bp.current_request, HashtagGroupIn)
    return ok(hashtags.update(who, group_id, req.name.strip(), req.hashtags).public())


@route(bp, "/hashtag-groups/{group_id}", methods=["DELETE"])
def delete_hashtag_group(group_id: str) -> Response:
    hashtags.remove(principal(Role.CONTRIBUTOR), group_id)
    return Response(body="", status_code=204)


@route(bp, "/media", methods=["GET"])
def search_media() -> Response:
    """The media library, newest first: ``q`` in the name, ``tag``, ``type`` (image, gif, video)."""
    params = query(bp.current_request)
    found = media.search(
        principal(), PageRequest.from_query(params), params.get("q"), params.get("tag"), params.get("type")
    )
    return ok({"media": [media.public(i) for i in found.items], "next_cursor": found.next_cursor})


@route(bp, "/media/{media_id}", methods=["GET"])
def get_media(media_id: str) -> Response:
    return ok(media.public(media.get(principal(), media_id)))


@route(bp, "/media/{media_id}", methods=["PATCH"])
def edit_media(media_id: str) -> Response:
    who = principal(Role.CONTRIBUTOR)
    req = body(bp.current_request, MediaEdit)
    return ok(media.public(media.edit(who, media_id, req.name, req.tags)))


@route(bp, "/media/{media_id}", methods=["DELETE"])
def delete_media(media_id: str) -> Response:
    """Delete a file and its thumbnail; 409 listing the posts that use it while any does."""
    media.remove(principal(Role.CONTRIBUTOR), media_id)
    return Response(body="", status_code=204)
