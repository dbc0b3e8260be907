"""Replies to Weibo comments against the documented request and answer: ``POST 2/comments/reply.json``
with the form of ``comments_reply_request_form_springsocialweibo.txt`` (cid, id, comment, without_mention,
comment_ori), answered with the new comment (``comment_single_springsocialweibo.json``); exactly once
(a lost answer or 20019 verified on ``comments/show``, never resent blind); the channel's 140 limit."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest
import requests
import responses
from responses import matchers

from chorus.errors import ValidationFailed
from chorus.inbox import channels
from chorus.platforms.base import AccountCredentials, PermanentError, UnknownOutcome
from chorus.platforms.weibo.comments import WeiboCommentReplies
from tests.contract.replying import SENT_AT, hours_after, marks, reply_request, sent_twice_after_a_lost_answer
from tests.contract.weibo import API, AUTH, TOKEN, doc, doc_text, weibo_app

__all__ = ["weibo_app"]

REPLY = f"{API}/2/comments/reply.json"
SHOW = f"{API}/2/comments/show.json"
FORM = dict(parse_qsl(doc_text("comments_reply_request_form_springsocialweibo.txt").strip()))  # cid=1, id=99
ANSWER = doc("comment_single_springsocialweibo.json")
ME = str(ANSWER["user"]["id"])  # 1404376560
CREDS = AccountCredentials(platform="weibo", account_id=ME, access_token=TOKEN)
ANSWERED = f"{FORM['id']}_{FORM['cid']}"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def sender(monkeypatch: pytest.MonkeyPatch) -> WeiboCommentReplies:
    from chorus.accounts.apps import get_apps

    monkeypatch.delenv("CHORUS_WEIBO_RIP", raising=False)
    get_apps.cache_clear()  # type: ignore[attr-defined]
    return WeiboCommentReplies(session=requests.Session(), base_url=API)


def test_a_reply_is_the_documented_reply_form_and_the_new_comment_is_recorded(
    rsps: responses.RequestsMock, sender: WeiboCommentReplies
) -> None:
    rsps.post(
        REPLY, json=ANSWER, match=[matchers.header_matcher(AUTH), matchers.urlencoded_params_matcher(FORM)]
    )
    request = reply_request(FORM["comment"], reply_to=ANSWERED)
    result = sender.send(CREDS, request)
    assert result.platform_post_id == f"{FORM['id']}_{ANSWER['id']}"
    assert marks(request) == [("sent", "0"), ("landed", "0", result.platform_post_id)]


def test_the_reported_ip_goes_with_the_reply_when_configured(
    rsps: responses.RequestsMock, weibo_app: None
) -> None:
    rsps.post(REPLY, json=ANSWER, match=[matchers.urlencoded_params_matcher({**FORM, "rip": "211.156.0.1"})])
    WeiboCommentReplies(session=requests.Session(), base_url=API).send(
        CREDS, reply_request(FORM["comment"], reply_to=ANSWERED)
    )


def test_a_reply_whose_answer_was_lost_is_never_sent_again_blind(
    rsps: responses.RequestsMock, sender: WeiboCommentReplies
) -> None:
    rsps.post(REPLY, body=requests.ReadTimeout("slow"))
    sent_twice_after_a_lost_answer(sender, CREDS, rsps, reply_to=ANSWERED)
    assert sender.verifiable is True


def test_repeated_content_is_an_unknown_outcome_to_verify(
    rsps: responses.RequestsMock, sender: WeiboCommentReplies
) -> None:
    rsps.post(REPLY, json={"error": "repeat content!", "error_code": 20019, "request": "/2/comments/reply.json"},
              status=400)  # fmt: skip
    request = reply_request(FORM["comment"], reply_to=ANSWERED)
    with pytest.raises(UnknownOutcome):
        sender.send(CREDS, request)
    assert marks(request) == [("sent", "0")]


def listing(text: str, created_at: str) -> dict[str, object]:
    ours = copy.deepcopy(ANSWER)
    ours["text"], ours["created_at"], ours["idstr"] = text, created_at, "12438499999"
    ours["reply_comment"] = {"id": int(FORM["cid"]), "idstr": FORM["cid"], "text": "?"}
    return {"comments": [ours], "previous_cursor": 0, "next_cursor": 0, "total_number": 1}


def test_a_lost_reply_is_found_on_the_statuss_comments_with_weibos_prefix(
    rsps: responses.RequestsMock, sender: WeiboCommentReplies
) -> None:
    # Given comments/show lists our comment, as Weibo prefixes it, made after the reply was queued
    rsps.get(SHOW, json=listing(f"回复@zaku:{FORM['comment']}", "Sun Dec 06 20:01:00 +0800 2026"),
             match=[matchers.query_param_matcher({"id": FORM["id"], "count": "50"})])  # fmt: skip
    found = sender.find_sent(CREDS, reply_request(FORM["comment"], reply_to=ANSWERED))
    assert found is not None
    assert found.platform_post_id == f"{FORM['id']}_12438499999"


def test_an_older_comment_or_one_on_another_comment_is_not_ours(
    rsps: responses.RequestsMock, sender: WeiboCommentReplies
) -> None:
    rsps.get(SHOW, json=listing(FORM["comment"], "Sun Dec 06 10:00:00 +0800 2026"))
    assert sender.find_sent(CREDS, reply_request(FORM["comment"], reply_to=ANSWERED)) is None
    rsps.get(SHOW, json=listing(FORM["comment"], "Sun Dec 06 20:01:00 +0800 2026"))
    assert sender.find_sent(CREDS, reply_request(FORM["comment"], reply_to=f"{FORM['id']}_7")) is None


def test_a_reply_naming_no_comment_is_refused_before_the_network(sender: WeiboCommentReplies) -> None:
    with pytest.raises(PermanentError):
        sender.send(CREDS, reply_request("hi", reply_to="99"))


def test_the_channel_takes_140_characters_and_has_no_window() -> None:
    channel = channels.get("weibo")
    channels.plan_reply(channel, SENT_AT, hours_after(24 * 30), text="好" * 140)
    with pytest.raises(ValidationFailed):
        channels.plan_reply(channel, SENT_AT, hours_after(1), text="好" * 141)
