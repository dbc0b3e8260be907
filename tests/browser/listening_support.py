"""Listening data for the browser tests and the screenshots: a brand monitor, a few quiet hours of
mentions and a burst of negative ones, replayed through the detector as the alerts function runs it,
which raises one crisis and pauses publishing (the workspace's auto-pause on)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.browser.conftest import Team
from tests.integration.harness import Chorus

QUIET_HOURS = 3  # the detector learns for an hour, then needs a normal to compare with


def crisis(chorus: Chorus, team: Team) -> dict[str, Any]:
    """Raise one crisis in ``team``'s workspace; answers the incident (GET /incidents)."""
    from chorus.events.bus import default_publisher
    from chorus.listening import service
    from chorus.listening.monitors import Mention

    ws, token = team.workspace_id, team.owner.id_token
    settings = chorus.call("PUT", "/listening/settings", token, workspace=ws, json={"auto_pause": True})
    assert settings.status_code == 200, settings.text
    made = chorus.call("POST", "/monitors", token, workspace=ws,
                       json={"name": "Brand", "kind": "brand", "terms": ["acme"]})  # fmt: skip
    assert made.status_code == 201, made.text
    monitors = service.list_monitors(ws)
    events = default_publisher()
    rng = random.Random(7)
    now = datetime.now(UTC)
    burst = service.window_start(now) - timedelta(minutes=5)
    start = burst - timedelta(hours=QUIET_HOURS)
    n = 0

    def mention(at: datetime, negative: bool) -> None:
        nonlocal n
        n += 1
        text = "acme support is awful, refund now" if negative else "loving my acme coffee this morning"
        heard = Mention("bluesky", f"{ws}-m{n}", f"https://bsky.app/profile/user{n}/post/{n}", f"user{n}",
                        f"did:{n}", text, at, "en")  # fmt: skip
        service.record_mention(ws, heard, "negative" if negative else "positive", monitors)

    for w in range(QUIET_HOURS * 12):
        window = start + timedelta(minutes=5 * w)
        for _ in range(rng.randint(1, 3)):
            mention(window + timedelta(seconds=rng.randint(0, 299)), rng.random() < 0.1)
        if w % 12 == 11:
            assert (
                service.run_detection(window + timedelta(minutes=5), events, service.pause_publishing).raised
                == 0
            )
    for i in range(40):
        mention(burst + timedelta(seconds=5 * i), True)
    assert service.run_detection(now, events, service.pause_publishing).raised == 1
    [incident] = chorus.call("GET", "/incidents", token, workspace=ws).json()["incidents"]
    return dict(incident)
