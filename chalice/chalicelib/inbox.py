"""Routes: the unified inbox (list, thread, assign, tag, status, priority, notes, replies, presence), saved
replies, the workspace's inbox rules and service levels. Every change is pushed to the workspace's live
connections."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from chalice.app import Blueprint, Response
from chalicelib.web import body, ok, principal, query, route, within_bytes
from chorus.auth.roles import Role
from chorus.auth.workspaces import get_workspace
from chorus.errors import ValidationFailed
from chorus.inbox import presence, replies, rules, service, sla
from chorus.inbox.access import require_conversation
from chorus.inbox.live import ConnectionSender
from chorus.inbox.queue import default_reply_queue
from chorus.listening import overrides
from chorus.store.pages import PageRequest

bp = Blueprint(__name__)


class AssignIn(BaseModel):
    assignee: str | None = Field(default=None, max_length=200)


Tag = Annotated[str, Field(max_length=100)]


class TagsIn(BaseModel):
    add: list[Tag] = Field(default_factory=list, max_length=30)
    remove: list[Tag] = Field(default_factory=list, max_length=30)


class StatusIn(BaseModel):
    status: str


class PriorityIn(BaseModel):
    priority: int = Field(ge=0, le=3)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class TemplateIn(BaseModel):
    """An approved WhatsApp message template (the only reply outside the customer-service window)."""

    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=20)
    components: list[dict[str, Any]] = Field(default_factory=list, max_length=20)


class ReplyIn(BaseModel):
    text: str | None = Field(default=None, max_length=10_000)
    saved_reply_id: str | None = Field(default=None, max_length=200)
    in_reply_to: str | None = Field(default=None, max_length=2000)
    template: TemplateIn | None = None
    private: bool = False  # a private reply to the comment's author (Facebook, Instagram)
    drafted_at: datetime | None = None  # when its author began writing it: a reply that crossed is a 409
    confirm: bool = False  # send it even though someone else answered meanwhile


class BusinessHoursIn(BaseModel):
    days: list[str] = Field(min_length=1, max_length=7)  # mon .. sun
    start: str = Field(max_length=8)  # 09:00, in the workspace's time zone
    end: str = Field(max_length=8)


class SlaIn(BaseModel):
    first_response_minutes: int | None = None
    resolution_minutes: int | None = None
    business_hours: BusinessHoursIn | None = None  # none: around the clock
    nearing_at: float = 0.8  # the share of a target spent when a conversation is "nearing" it
    escalate_after_minutes: int | None = None  # after a breach, the admins are told this much later


class PresenceIn(BaseModel):
    state: str = Field(max_length=20)  # viewing | typing | left


class SentimentIn(BaseModel):
    sentiment: str


class SavedReplyIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=10_000)


MAX_RULES_BYTES = 200 * 1024  # the workspace's rules are one item


class RulesIn(BaseModel):
    rules: list[dict[str, Any]]


def connection_sender() -> ConnectionSender:
    from chorus.inbox.wiring import live_sender

    sender: ConnectionSender = live_sender()  # type: ignore[assignment]
    return sender


@route(bp, "/inbox", methods=["GET"])
def list_inbox() -> Response:
    params = query(bp.current_request)
    try:
        limit = int(params.get("limit", "25"))
    except ValueError:
        raise ValidationFailed.on("limit", "must be an integer", "type") from None
    who = principal()
    filters = replace(service.InboxFilter.from_query(params), visible=who.accounts)
    return ok(service.list_conversations(who.workspace_id, filters, limit, params.get("cursor")))


@route(bp, "/inbox/rules", methods=["GET"])
def get_rules() -> Response:
    return ok({"rules": [r.to_dict() for r in rules.get_rules(principal().workspace_id)]})


@route(bp, "/inbox/rules", methods=["PUT"])
def put_rules() -> Response:
    who = principal(Role.ADMIN)
    req = body(bp.current_request, RulesIn)
    within_bytes(req, MAX_RULES_BYTES, "rules")
    return ok({"rules": [r.to_dict() for r in rules.set_rules(who.workspace_id, req.rules)]})


@route(bp, "/inbox/sla", methods=["GET"])
def get_sla() -> Response:
    found = sla.get_policy(principal().workspace_id)
    return ok({"sla": found.to_dict() if found else None})


@route(bp, "/inbox/sla", methods=["PUT"])
def put_sla() -> Response:
    who = principal(Role.ADMIN)
    req = body(bp.current_request, SlaIn)
    policy = sla.set_policy(who.workspace_id, req.model_dump(), get_workspace(who.workspace_id).timezone)
    return ok({"sla": policy.to_dict()})


@route(bp, "/inbox/sla", methods=["DELETE"])
def delete_sla() -> Response:
    sla.clear_policy(principal(Role.ADMIN).workspace_id)
    return Response(body="", status_code=204)


@route(bp, "/inbox/{conversation_id}", methods=["GET"])
def get_thread(conversation_id: str) -> Response:
    who = principal()
    require_conversation(who, conversation_id)
    return ok(service.thread(who.workspace_id, conversation_id))


@route(bp, "/inbox/{conversation_id}/assign", methods=["POST"])
def assign(conversation_id: str) -> Response:
    who = principal(Role.CONTRIBUTOR)
    require_conversation(who, conversation_id)
    req = body(bp.current_request, AssignIn)
    return ok(service.assign(who.workspace_id, conversation_id, req.assignee, connection_sender()))


@route(bp, "/inbox/{conversation_id}/tags", methods=["POST"])
def tag(conversation_id: str) -> Response:
    who = principal(Role.CONTRIBUTOR)
    require_conversation(who, conversation_id)
    req = body(bp.current_request, TagsIn)
    return ok(service.set_tags(who.workspace_id, conversation_id, req.add, req.remove, connection_sender()))


@route(bp, "/inbox/{conversation_id}/status", methods=["POST"])
def set_status(conversation_id: str) -> Response:
    who = principal(Role.CONTRIBUTOR)
    require_conversation(who, conversation_id)
    req = body(bp.current_request, StatusIn)
    return ok(
        service.set_status(who.workspace_id, conversation_id, req.status, connection_sender(), by=who.actor)
    )


@route(bp, "/inbox/{conversation_id}/presence", methods=["POST"])
def announce_presence(conversation_id: str) -> Response:
    who = principal()
    require_conversation(who, conversation_id)
    req = body(bp.current_request, PresenceIn)
    return ok(presence.announce(who.workspace_id, conversation_id, who.actor, req.state, connection_sender()))


@route(bp, "/inbox/{conversation_id}/priority", methods=["POST"])
def set_priority(conversation_id: str) -> Response:
    who = principal(Role.CONTRIBUTOR)
    require_conversation(who, conversation_id)
    req = body(bp.current_request, PriorityIn)
    return ok(service.set_priority(who.workspace_id, conversation_id, req.priority, connection_sender()))


@route(bp, "/inbox/{conversation_id}/notes", methods=["POST"])
def add_note(conversation_id: str) -> Response:
    who = principal(Role.CONTRIBUTOR)
    require_conversation(who, conversation_id)
    req = body(bp.current_request, NoteIn)
    return ok(service.add_note(who.workspace_id, conversation_id, req.text, who.actor), status=201)


@route(bp, "/inbox/{conversation_id}/messages/{message_id}/sentiment", methods=["PUT"])
def override_sentiment(conversation_id: str, message_id: str) -> Response:
    who = principal(Role.EDITOR)
    require_conversation(who, conversation_id)
    req = body(bp.current_request, SentimentIn)
    return ok(
        overrides.override_message(
            who.workspace_id, conversation_id, message_id, req.sentiment, who.actor, connection_sender()
        )
    )


@route(bp, "/inbox/{conversation_id}/reply", methods=["POST"])
def reply(conversation_id: str) -> Response:
    who = principal(Role.CONTRIBUTOR)
    require_conversation(who, conversation_id)
    req = body(bp.current_request, ReplyIn)
    text = req.text
    if req.saved_reply_id:
        text = replies.filled_saved_reply(who.workspace_id, conversation_id, req.saved_reply_id)
    if not text and req.template is None:
        raise ValidationFailed.on("text", "give the text, a saved_reply_id or a template", "required")
    created = replies.create_reply(
        who.workspace_id, conversation_id, text or "", who.actor, default_reply_queue(), req.in_reply_to,
        template=req.template.model_dump() if req.template else None, private=req.private,
        drafted_at=req.drafted_at, confirm=req.confirm,
    )  # fmt: skip
    return ok(created, status=202)


@route(bp, "/saved_replies", methods=["GET"])
def list_saved() -> Response:
    found = service.saved_replies_page(
        principal().workspace_id, PageRequest.from_query(query(bp.current_request))
    )
    return ok({"saved_replies": found.items, "next_cursor": found.next_cursor})


@route(bp, "/saved_replies", methods=["POST"])
def create_saved() -> Response:
    who = principal(Role.EDITOR)
    req = body(bp.current_request, SavedReplyIn)
    return ok(service.create_saved_reply(who.workspace_id, req.title, req.text), status=201)


@route(bp, "/saved_replies/{saved_id}", methods=["DELETE"])
def delete_saved(saved_id: str) -> Response:
    service.delete_saved_reply(principal(Role.EDITOR).workspace_id, saved_id)
    return Response(body="", status_code=204)
