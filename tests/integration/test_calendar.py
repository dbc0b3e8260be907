"""The calendar's filters (account is the page's; tag and campaign are the API's) and the queue's free
slots, on the embedded runtime with the sandbox platform.

The data set, in a workspace in Europe/Paris two years ahead (nothing publishes while the tests run):
a campaign "Launch"; post L (tags launch, shoes; campaign Launch) on Monday 09:00, post S (tag shoes) on
Monday 14:00, post N (no tag) on Tuesday 11:00, each to accounts A and B. The queue has slots at 10:30 and
16:00 every day: the first after now is held by a queued post Q, the second was taken by a queued post
that was cancelled (which frees it). Free slots are read for the coming week.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration.harness import Chorus

TZ = "Europe/Paris"
PARIS = ZoneInfo(TZ)
MONDAY = date(datetime.now(UTC).year + 2, 3, 1)
MONDAY -= timedelta(days=MONDAY.weekday())  # the first Monday on or before 1 March, two years ahead
WEEK = (f"{MONDAY}T00:00:00+01:00", f"{MONDAY + timedelta(days=7)}T00:00:00+01:00")


def local(day: date, hhmm: str) -> str:
    return f"{day}T{hhmm}:00"


@pytest.fixture(scope="module")
def world(chorus: Chorus) -> dict[str, Any]:
    ws, key = chorus.workspace("Calendar", TZ)
    a, b = chorus.sandbox_account(key, "cal-a"), chorus.sandbox_account(key, "cal-b")

    def made(answer: Any) -> dict[str, Any]:
        assert answer.status_code in (200, 201), answer.text
        found: dict[str, Any] = answer.json()
        return found

    campaign = made(chorus.call("POST", "/campaigns", key, json={"name": "Launch", "starts_on": str(MONDAY),
                                                                 "ends_on": str(MONDAY + timedelta(days=30))}))  # fmt: skip

    def post(text: str, at: str, **extra: Any) -> dict[str, Any]:
        body = {"text": text, "accounts": [a, b], "scheduled_at": at, "timezone": TZ, **extra}
        return made(chorus.call("POST", "/posts", key, json=body))

    launch = post(
        "Launch day", local(MONDAY, "09:00"), tags=["Launch", " shoes "], campaign_id=campaign["id"]
    )
    shoes = post("Shoes", local(MONDAY, "14:00"), tags=["shoes"])
    plain = post("Nothing special", local(MONDAY + timedelta(days=1), "11:00"))
    made(chorus.call("PUT", "/queue/slots", key, json={"slots": [{"weekday": d, "time": t}
                                                                 for d in range(7) for t in ("10:30", "16:00")]}))  # fmt: skip
    # Two posts added to the queue take the first two free slots after now; the second is cancelled
    queued = made(
        chorus.call("POST", "/posts", key, json={"text": "Queued", "accounts": [a, b], "mode": "queue"})
    )
    freed = made(chorus.call("POST", "/posts", key, json={"text": "Freed", "accounts": [a], "mode": "queue"}))
    made(chorus.call("DELETE", f"/posts/{freed['id']}", key))
    return {"key": key, "accounts": (a, b), "campaign": campaign, "launch": launch, "shoes": shoes,
            "plain": plain, "queued": queued, "freed": freed}  # fmt: skip


def calendar(chorus: Chorus, key: str, **params: str) -> dict[str, Any]:
    answer = chorus.call("GET", "/calendar", key, params={"from": WEEK[0], "to": WEEK[1], **params})
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def shown(found: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    """(post id, account, local day, local time) of every entry."""
    return {
        (e["post_id"], account, day, e["local_time"])
        for day, accounts in found["days"].items()
        for account, entries in accounts.items()
        for e in entries
    }


def test_posts_keep_their_tags_spelled_once_and_an_edit_without_tags_keeps_them(
    chorus: Chorus, world: dict[str, Any]
) -> None:
    key, launch = world["key"], world["launch"]
    assert launch["tags"] == ["launch", "shoes"]
    # An edit that leaves tags out (as an older client does) keeps them; one that names them sets them
    body = {"text": "Launch day!", "accounts": list(world["accounts"]), "timezone": TZ,
            "scheduled_at": local(MONDAY, "09:00"), "campaign_id": world["campaign"]["id"]}  # fmt: skip
    kept = chorus.call("PUT", f"/posts/{launch['id']}", key, json=body).json()
    assert kept["tags"] == ["launch", "shoes"]
    assert (kept["content"]["text"], kept["campaign_id"]) == ("Launch day!", world["campaign"]["id"])
    world["launch"] = kept


@pytest.mark.parametrize(
    ("tags", "field"),
    [
        (["ok", ""], "tags[1]"),
        (["a,b"], "tags[0]"),
        (["x" * 51], "tags[0]"),
        ([f"t{n}" for n in range(21)], "tags"),
    ],
)
def test_a_bad_tag_is_a_422_naming_it(
    chorus: Chorus, world: dict[str, Any], tags: list[str], field: str
) -> None:
    body = {"text": "x", "accounts": list(world["accounts"]), "mode": "draft", "tags": tags}
    answer = chorus.call("POST", "/posts", world["key"], json=body)
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]]


def test_the_week_shows_every_post_on_each_account_with_its_tags_and_campaign(
    chorus: Chorus, world: dict[str, Any]
) -> None:
    a, b = world["accounts"]
    found = calendar(chorus, world["key"])
    monday, tuesday = str(MONDAY), str(MONDAY + timedelta(days=1))
    posts = [(world["launch"]["id"], monday, "09:00"), (world["shoes"]["id"], monday, "14:00"),
             (world["plain"]["id"], tuesday, "11:00")]  # fmt: skip
    assert shown(found) == {(p, acc, d, t) for p, d, t in posts for acc in (a, b)}
    [entry] = [e for e in found["days"][monday][a] if e["post_id"] == world["launch"]["id"]]
    assert (entry["tags"], entry["campaign_id"], entry["state"]) == (
        ["launch", "shoes"],
        world["campaign"]["id"],
        "scheduled",
    )
    # And each entry shows its target as the post does, but its attempt log
    post = chorus.call("GET", f"/posts/{world['launch']['id']}", world["key"]).json()
    [target] = [t for t in post["targets"] if t["account_id"] == a]
    assert "attempt_log" not in entry
    assert {k: entry[k] for k in target if k != "attempt_log"} == {
        k: v for k, v in target.items() if k != "attempt_log"
    }


def test_the_calendar_filters_by_tag_by_campaign_and_by_both(chorus: Chorus, world: dict[str, Any]) -> None:
    key, launch, shoes = world["key"], world["launch"]["id"], world["shoes"]["id"]
    by_tag = calendar(chorus, key, tag="shoes")
    assert {e[0] for e in shown(by_tag)} == {launch, shoes}
    assert {e[0] for e in shown(calendar(chorus, key, tag=" LAUNCH "))} == {launch}  # spelled as tags are
    assert shown(calendar(chorus, key, tag="nobody-uses-this")) == set()
    campaign = world["campaign"]["id"]
    assert {e[0] for e in shown(calendar(chorus, key, campaign=campaign))} == {launch}
    assert {e[0] for e in shown(calendar(chorus, key, campaign=campaign, tag="shoes"))} == {launch}
    # Filters leave the queue's free slots as they are: the queue is the workspace's
    week = coming_week()
    assert (
        calendar(chorus, key, tag="shoes", **week)["free_slots"]
        == calendar(chorus, key, **week)["free_slots"]
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tag": "a,b"}, "tag"),
        ({"tag": " "}, "tag"),
        ({"tag": "x" * 51}, "tag"),
        ({"campaign": "cnothere"}, "campaign"),
    ],
)
def test_a_bad_filter_is_a_422_naming_it(
    chorus: Chorus, world: dict[str, Any], params: dict[str, str], field: str
) -> None:
    answer = chorus.call("GET", "/calendar", world["key"], params={"from": WEEK[0], "to": WEEK[1], **params})
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def coming_week() -> dict[str, str]:
    today = datetime.combine(datetime.now(PARIS).date(), datetime.min.time(), PARIS)
    return {"from": today.isoformat(), "to": (today + timedelta(days=7)).isoformat()}


def slot_times(week: dict[str, str]) -> list[datetime]:
    """Every 10:30 and 16:00 of Paris in ``week`` still to come, in UTC."""
    first = datetime.fromisoformat(week["from"])
    times = [
        datetime.combine(first.date() + timedelta(days=d), datetime.strptime(t, "%H:%M").time(), PARIS)
        for d in range(7)
        for t in ("10:30", "16:00")
    ]
    return [t.astimezone(UTC) for t in times if t > datetime.now(UTC)]


def test_free_slots_are_the_queue_times_no_live_queue_post_holds_in_the_workspace_zone(
    chorus: Chorus, world: dict[str, Any]
) -> None:
    week = coming_week()
    found = calendar(chorus, world["key"], **week)
    held = datetime.fromisoformat(world["queued"]["scheduled_at"].replace("Z", "+00:00"))
    freed = datetime.fromisoformat(world["freed"]["scheduled_at"].replace("Z", "+00:00"))
    free = [datetime.fromisoformat(s["at"].replace("Z", "+00:00")) for s in found["free_slots"]]
    # Then every slot time still to come is free but the queued post's; the cancelled one's is free again
    assert held < freed
    assert free == [t for t in slot_times(week) if t != held]
    assert freed in free
    for slot in found["free_slots"]:
        at = datetime.fromisoformat(slot["at"].replace("Z", "+00:00")).astimezone(PARIS)
        assert (str(at.date()), at.strftime("%H:%M")) == (slot["day"], slot["local_time"])
    # And the held slot shows the queued post on both accounts at that local time
    day, hhmm = str(held.astimezone(PARIS).date()), held.astimezone(PARIS).strftime("%H:%M")
    assert {(world["queued"]["id"], acc, day, hhmm) for acc in world["accounts"]} <= shown(found)


def test_no_free_slot_in_the_past_and_none_without_queue_slots(chorus: Chorus, world: dict[str, Any]) -> None:
    today = datetime.now(PARIS).date()
    answer = chorus.call("GET", "/calendar", world["key"],
                         params={"from": f"{today - timedelta(days=8)}T00:00:00Z", "to": f"{today}T00:00:00Z"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["free_slots"] == []
    _, other = chorus.workspace("No queue", TZ)
    assert calendar(chorus, other, **coming_week())["free_slots"] == []


def test_a_member_limited_to_one_account_sees_only_its_entries(chorus: Chorus, world: dict[str, Any]) -> None:
    from chorus.auth import members
    from chorus.auth.keys import parse_key
    from chorus.auth.roles import Role

    _, b = world["accounts"]
    parsed = parse_key(world["key"])
    assert parsed is not None
    person = chorus.person(f"limited-{parsed.workspace_id}@calendar.test")
    members.add_member(parsed.workspace_id, person.user_id, person.email, Role.VIEWER, {b})
    answer = chorus.call("GET", "/calendar", person.id_token, workspace=parsed.workspace_id,
                         params={"from": WEEK[0], "to": WEEK[1]})  # fmt: skip
    assert answer.status_code == 200, answer.text
    seen = shown(answer.json())
    assert {account for _, account, _, _ in seen} == {b}  # and none of a's
    assert {p for p, _, _, _ in seen} == {world["launch"]["id"], world["shoes"]["id"], world["plain"]["id"]}
