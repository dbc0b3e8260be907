"""`make demo`: Chorus end to end on the embedded runtime, no AWS account and no network.

It starts AWS on 127.0.0.1 from template.yaml, creates a workspace, connects two accounts on the local
sandbox platform, schedules posts a few seconds ahead (one meets a 503 and is retried, one is refused
by the platform), and shows each one published on time, exactly once, or failed with the platform's
reason and an alert.

The sandbox also answers as real platforms (X, Mastodon, Bluesky, Facebook, Instagram, Threads,
LinkedIn, Pinterest, Weibo, TikTok, WeChat, Douyin, Kuaishou: :mod:`chorus.platforms.sandbox.personas`):
each platform's API base URL points at it, one account per platform is connected (its ownership proven
by the platform's own whoami call; Douyin and Kuaishou by OAuth), a picture goes to the platforms that
need one, a short video (an MP4 the sandbox writes) to TikTok, Douyin and Kuaishou, and a text post is scheduled on the others (X's answer lost on the way), each
published by that platform's real adapter, exactly once, and shown in the calendar. The hourly metrics
collection then runs once, each platform's real collector reading the figures the sandbox answers, and
the report shows them. The platforms it does not answer as are named, with the reason.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

BOLD, DIM, GREEN, RED, RESET = "\033[1m", "\033[2m", "\033[32m", "\033[31m", "\033[0m"


def say(text: str) -> None:
    print(text, flush=True)


def step(text: str) -> None:
    say(f"\n{BOLD}▸ {text}{RESET}")


def run_demo(template: Path) -> int:
    from chorus.auth.workspaces import create_workspace
    from chorus.local.runtime import LocalRuntime
    from chorus.platforms.registry import PLATFORMS
    from chorus.platforms.sandbox.personas import (
        IMAGE_ONLY,
        IMAGE_PATH,
        NOT_ANSWERED,
        OAUTH_APPS,
        VIDEO_ONLY,
        VIDEO_PLATFORMS,
        api_urls,
    )
    from chorus.platforms.sandbox.server import LABEL, SandboxServer
    from chorus.platforms.sandbox.video import VIDEO_PATH

    started = time.monotonic()
    step("Starting the embedded runtime from template.yaml (moto on 127.0.0.1, no AWS account)")
    sandbox = SandboxServer()
    sandbox_url = sandbox.start()
    runtime = LocalRuntime(
        template,
        extra_env={"CHORUS_SANDBOX_URL": sandbox_url, **api_urls(sandbox_url)},
        parameters={"ListeningSources": "sandbox", **OAUTH_APPS},
    ).start()
    ok = True
    try:
        say(f"  AWS (moto)   {runtime.endpoint}")
        say(f"  HTTP API     {runtime.api_url}")
        say(f"  WebSocket    {runtime.ws_url}")
        say(f"  Web app      {runtime.web_url}")
        say(f"  functions    {', '.join(sorted(runtime.functions))}")
        say(f"  event sources: {len(runtime.sqs_mappings)} SQS mapping(s), {len(runtime.schedules)} schedule(s), "
            f"{len(runtime.rules)} EventBridge rule(s)")  # fmt: skip
        say(f"  platform     {LABEL} at {sandbox_url}")
        alerts = _subscribe_alerts(runtime)

        step("Creating a workspace (what `chorus workspace create` does)")
        workspace, key = create_workspace("Acme Coffee", "Europe/Paris")
        say(f"  workspace {workspace.id}, owner API key {key[:22]}… (stored hashed)")
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {key}"

        def call(method: str, path: str, **kw: Any) -> requests.Response:
            return api.request(method, runtime.api_url + path, timeout=30, **kw)

        health = requests.get(runtime.api_url + "/health", timeout=30).json()
        unauthorised = requests.get(runtime.api_url + "/workspace", timeout=30).status_code
        say(f"  GET /health → {health['status']};  GET /workspace without a key → {unauthorised}")
        say(f"  GET /workspace with the key → {call('GET', '/workspace').json()['name']}")

        step("Connecting two accounts on the sandbox platform")
        accounts = {}
        for handle in ("acme", "acme_cn"):
            made = call("POST", "/accounts", json={"platform": "sandbox", "platform_account_id": handle,
                                                   "access_token": f"tok-{handle}", "handle": handle})  # fmt: skip
            accounts[handle] = made.json()["id"]
            say(f"  @{handle} → account {accounts[handle]} (token encrypted with KMS)")

        step("Connecting one account per platform, the sandbox answering as each (their real adapters)")
        stand_ins = connect_stand_ins(call, sandbox_url)
        for platform, account_id in stand_ins.items():
            made = call("GET", f"/accounts/{account_id}").json()
            say(f"  {PLATFORMS[platform].label:<24} @{(made.get('handle') or made['platform_account_id']).lstrip('@')}"
                f"  (whoami answered: {made['platform_account_id']})")  # fmt: skip
        for platform, why in NOT_ANSWERED.items():
            say(f"  {DIM}{PLATFORMS[platform].label:<24} not answered by the sandbox: {why}{RESET}")
        names = {a: f"@{h}" for h, a in accounts.items()} | {a: p for p, a in stand_ins.items()}

        step("Scheduling posts a few seconds ahead")
        requests.post(sandbox_url + "/_control/faults", json={"kind": "status", "account": "acme_cn", "status": 503,
                      "message": "service unavailable", "times": 1, "retry_after": 1}, timeout=30)  # fmt: skip
        requests.post(sandbox_url + "/_control/faults", json={"kind": "status", "account": "acme", "status": 400,
                      "message": "Status is a duplicate", "times": 1}, timeout=30)  # fmt: skip
        requests.post(sandbox_url + "/_control/faults", json={"kind": "drop_after_create", "account": "as:x"},
                      timeout=30)  # fmt: skip
        say("  X will make the post but its answer will be lost (the connection drops): Chorus must look")
        say("  for it on the account's timeline, not post it twice")
        # The picture goes out now: Instagram and TikTok read its status 10 s after making it.
        media = [
            {"mime_type": "image/jpeg", "url": sandbox_url + IMAGE_PATH, "alt_text": "A cup of Acme coffee"}
        ]
        now = datetime.now(UTC)
        answer = call("POST", "/posts", json={"text": PICTURE, "accounts": [stand_ins[p] for p in sorted(IMAGE_ONLY)],
                                              "media": media, "mode": "now", "options": PICTURE_OPTIONS})  # fmt: skip
        if answer.status_code != 201:
            say(f"  {RED}could not publish: {answer.text}{RESET}")
            return 1
        posts = [(f"A picture ({len(IMAGE_ONLY)} platforms)", answer.json()["id"], now)]
        say(f"  {now.strftime('%H:%M:%S')} UTC  {posts[0][0]} (publish now)")
        video = [{"mime_type": "video/mp4", "url": sandbox_url + VIDEO_PATH}]  # a 6 s MP4 the sandbox wrote
        answer = call("POST", "/posts", json={"text": VIDEO_TEXT, "accounts": [stand_ins[p] for p in VIDEO_PLATFORMS],
                                              "media": video, "mode": "now", "options": PICTURE_OPTIONS})  # fmt: skip
        if answer.status_code != 201:
            say(f"  {RED}could not publish: {answer.text}{RESET}")
            return 1
        posts.append((f"A short video ({len(VIDEO_PLATFORMS)} platforms)", answer.json()["id"], now))
        say(
            f"  {now.strftime('%H:%M:%S')} UTC  {posts[-1][0]} (publish now: uploaded in chunks, then processed)"
        )
        base = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=6)
        texts = [p for p in stand_ins if p not in IMAGE_ONLY | VIDEO_ONLY]
        plan = [
            ("Refused by the platform (400)", ["acme"], base, "Our autumn blend is back ☕"),
            (f"Every text platform ({len(texts)})", texts, base + timedelta(seconds=3), EVERYWHERE),
            ("Both accounts; one meets a 503", ["acme", "acme_cn"], base + timedelta(seconds=2),
             "New single-origin beans today — come taste them! 新豆上市 #coffee"),
            ("Chinese text, two seconds later", ["acme_cn"], base + timedelta(seconds=4), "周末快乐！Weekend hours: 9–18."),
        ]  # fmt: skip
        for label, handles, due, text in plan:
            targets = [accounts.get(h) or stand_ins[h] for h in handles]
            answer = call(
                "POST", "/posts", json={"text": text, "accounts": targets, "scheduled_at": due.isoformat()}
            )
            if answer.status_code != 201:
                say(f"  {RED}could not schedule: {answer.text}{RESET}")
                return 1
            posts.append((label, answer.json()["id"], due))
            say(f"  {due.strftime('%H:%M:%S')} UTC  {label}")

        step("A scheduler tick (EventBridge rate(1 minute); the demo fires it once now)")
        report = runtime.tick("SchedulerFunction")
        say(
            f"  scheduler read {report['buckets_read']} minute bucket(s) and {report['items_read']} item(s) of the due index"
        )

        step("Waiting for the publisher (SQS, delayed to the due second)…")
        deadline = time.monotonic() + 60
        results: dict[str, dict[str, Any]] = {}
        elsewhere: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            results = {pid: call("GET", f"/posts/{pid}").json() for _, pid, _ in posts}
            elsewhere = requests.get(sandbox_url + "/_control/published", timeout=30).json()["published"]
            made_on = {m["platform"] for m in elsewhere}
            if all(
                settled(t, names[t["account_id"]], made_on) for p in results.values() for t in p["targets"]
            ):
                break
            time.sleep(0.2)
        arrivals = requests.get(sandbox_url + "/_control/requests", timeout=30).json()["requests"]
        platform_posts = requests.get(sandbox_url + "/_control/posts", timeout=30).json()["posts"]

        step("What happened")
        say(f"  {'post':<32} {'account':<9} {'due (UTC)':<10} {'state':<10} {'lag':>7} {'tries':>5}  detail")
        for label, pid, due in posts:
            for target in results[pid]["targets"]:
                name = names[target["account_id"]]
                calls = [r["at"] for r in arrivals if r["client_ref"] == f"{pid}.{target['account_id']}"]
                calls += [m["at"] for m in elsewhere if m["platform"] == name]
                lag = f"{calls[0] - due.timestamp():+.3f}s" if calls else "—"
                colour = GREEN if target["state"] == "published" else DIM if name in LATER else RED
                detail = target["url"] if target["state"] == "published" else target["error"]
                if name in LATER and target["state"] == "processing":
                    detail = (
                        f"submitted once: {PLATFORMS[name].label} publishes it, Chorus reads the job in 30 s"
                    )
                say(f"  {label[:32]:<32} {name:<9} {due.strftime('%H:%M:%S'):<10} {colour}{target['state']:<10}{RESET}"
                    f" {lag:>7} {target['attempts']:>5}  {detail}")  # fmt: skip
        published = [t for p in results.values() for t in p["targets"] if t["state"] == "published"]
        later = [t for p in results.values() for t in p["targets"] if t["state"] == "processing"]
        failed = [t for p in results.values() for t in p["targets"] if t["state"] == "failed"]
        dupes = len(platform_posts) - len({p["client_ref"] for p in platform_posts})
        once = {
            p: sum(m["platform"] == p and not m["extra"].get("video") for m in elsewhere)
            for p in stand_ins
            if p not in VIDEO_ONLY
        }
        videos = {
            p: sum(m["platform"] == p and bool(m["extra"].get("video")) for m in elsewhere)
            for p in VIDEO_PLATFORMS
        }
        dupes += sum(n - 1 for n in [*once.values(), *videos.values()] if n > 1)
        say(f"\n  {len(published)} published, {len(later)} being published by the platform, {len(failed)} failed,"
            f" {dupes} duplicates on the platforms")  # fmt: skip
        say(f"  posts made on each platform: {', '.join(f'{p} {n}' for p, n in once.items())}")
        say(f"  videos made: {', '.join(f'{p} {n}' for p, n in videos.items())}")
        faults = requests.get(sandbox_url + "/_control/faults", timeout=30).json()["faults"]
        lost = [f for f in faults if f["account"] == "as:x" and f["times"] == 0]
        say(f"  X's answer {'was lost, and the post was found on its timeline' if lost else 'was never lost'}: "
            f"{once['x']} post on X")  # fmt: skip
        ok = len(published) + len(later) == 3 + len(once) + len(videos) and len(failed) == 1 and dupes == 0
        ok = ok and all(n == 1 for n in [*once.values(), *videos.values()]) and bool(lost)

        step("The calendar (GET /calendar, what the web app's calendar shows)")
        window = {
            "from": (base - timedelta(days=1)).isoformat(),
            "to": (base + timedelta(days=1)).isoformat(),
        }
        shown = call("GET", "/calendar", params=window).json()
        entries = [
            (a, e) for by_account in shown["days"].values() for a, es in by_account.items() for e in es
        ]
        platform_of = {
            a["id"]: a["platform"] for a in call("GET", "/accounts", params={"limit": 50}).json()["accounts"]
        }
        on = sorted({PLATFORMS[platform_of[a]].label for a, _ in entries})
        say(f"  {len(entries)} entries on {len(on)} platforms: {', '.join(on)}")
        ok = ok and len(on) == 1 + len(stand_ins)

        step("Metrics: the hourly collection (fired once now, as at an hour's age), then GET /reports")
        measured = collect_and_report(runtime, workspace.id, call, stand_ins)
        for platform, row in sorted(measured.items()):
            say(f"  {PLATFORMS[platform].label:<24} {row}")
        say(f"  {DIM}WeChat: no per-article figures (datacube keys articles by a message id no publish answer "
            f"names); its followers and reads are the account's{RESET}")  # fmt: skip
        ok = ok and set(measured) == set(stand_ins) - {"wechat"}

        step("The failure reached people: PublishFailed → EventBridge rule → notifier → SNS alerts topic")
        sns_log: list[dict[str, str]] = []
        waited = time.monotonic() + 20  # (not wait_idle: WeChat's job read is a message due 30 s later)
        while not sns_log and time.monotonic() < waited:
            sns_log = [n for n in _alerts(runtime, alerts) if "failed to publish" in n.get("subject", "")]
        for note in sns_log[:1]:
            say(f"  {DIM}subject:{RESET} {note['subject']}")
            say(f"  {DIM}message:{RESET} {note['message'].splitlines()[1]}")
        ok = ok and bool(sns_log)

        step("Listening: a monitor for the brand, public posts searched, sentiment in English and Chinese")
        made = call(
            "POST", "/monitors", json={"name": "Acme", "kind": "brand", "terms": ["acme coffee", "acme咖啡"]}
        )
        for handle, text in (
            ("fan1", "Acme Coffee has the best flat white in town, love it!"),
            ("fan2", "acme咖啡的拿铁太好喝了，超级喜欢！"),
            ("critic", "Acme Coffee lost my order twice, terrible service"),
        ):
            requests.post(f"{sandbox_url}/api/accounts/{handle}/posts", json={"text": text},
                          headers={"Authorization": f"Bearer tok-{handle}"}, timeout=30)  # fmt: skip
        polled = runtime.tick("ListeningPollerFunction")
        found = call("GET", "/listening/mentions").json()["mentions"]
        for m in found:
            colour = {"positive": GREEN, "negative": RED}.get(m["sentiment"], DIM)
            say(f"  {colour}{m['sentiment']:<9}{RESET} @{m['author']}: {m['text']}")
        say(f"  monitor {made.json()['id']}: {polled['stored']} new mention(s), "
            f"{polled['duplicates']} duplicate(s); the crisis detector runs every 5 minutes on these windows")  # fmt: skip
        ok = ok and polled["stored"] == 3
    finally:
        runtime.stop()
        sandbox.stop()
    verdict = f"{GREEN}demo passed{RESET}" if ok else f"{RED}demo found a problem{RESET}"
    say(f"\n{verdict} in {time.monotonic() - started:.1f}s; the runtime stopped cleanly.")
    return 0 if ok else 1


EVERYWHERE = "Autumn blend is back at Acme Coffee ☕ https://acme-coffee.example/autumn"
PICTURE = "Autumn blend ☕\nA cup of it, fresh from the roaster."  # the first line: a WeChat article's title
VIDEO_TEXT = "Pouring the autumn blend ☕ #coffee"
PICTURE_OPTIONS = {"tiktok": {"privacy_level": "PUBLIC_TO_EVERYONE"}}  # TikTok asks each post's audience
LATER = {"wechat"}  # published by a job the platform runs: its adapter reads it again 30 s later


def settled(target: dict[str, Any], platform: str, made_on: set[str]) -> bool:
    """Whether the demo has seen ``target`` end: published or failed; on a platform that publishes by a
    job of its own (WeChat), also once the platform holds the post and Chorus waits to read the job."""
    if target["state"] in {"published", "partially_published", "failed"}:
        return True
    return platform in LATER and platform in made_on and target["state"] == "processing"


def connect_stand_ins(call: Any, sandbox_url: str) -> dict[str, str]:
    """One account per platform the sandbox answers as, connected through ``POST /accounts`` (the
    platform's whoami proves the token's owner), or by OAuth where the platform has no other way (Douyin:
    the persona's authorize page answers a code at once): {platform: account id}."""
    from chorus.platforms.sandbox.personas import ANSWERED, OAUTH_ONLY, claim

    connected = {}
    for platform in ANSWERED:
        if platform in OAUTH_ONLY:
            made = connect_by_oauth(call, platform)
            if made.status_code == 200:
                connected[platform] = made.json()["accounts"][0]["id"]
                continue
        else:
            made = call("POST", "/accounts", json=claim(sandbox_url, platform))
        if made.status_code != 201:
            raise RuntimeError(f"could not connect {platform}: {made.status_code} {made.text}")
        connected[platform] = made.json()["id"]
    return connected


def connect_by_oauth(call: Any, platform: str) -> Any:
    """``GET /accounts/connect/<platform>``, the authorize URL it answers followed as a browser would (the
    sandbox's page redirects back with a code), then the OAuth callback: Chorus's answer to it."""
    from urllib.parse import parse_qs, urlsplit

    started = call(
        "GET", f"/accounts/connect/{platform}", params={"redirect_uri": "https://app.example/connected"}
    )
    said = requests.get(started.json()["authorize_url"], allow_redirects=False, timeout=30)
    back = {k: v[-1] for k, v in parse_qs(urlsplit(said.headers.get("Location", "")).query).items()}
    return call(
        "GET", f"/oauth/callback/{platform}", params={"code": back.get("code"), "state": back.get("state")}
    )


def collect_and_report(
    runtime: Any, workspace_id: str, call: Any, accounts: dict[str, str]
) -> dict[str, str]:
    """Fire the metrics fan-out once every published post is followed (the table's stream read), then
    read the report until each platform's posts have figures: {platform: its posts' figures}."""
    from chorus.metrics.registry import CollectionRegistry

    registry = CollectionRegistry()
    waited = time.monotonic() + 20
    while time.monotonic() < waited and not all(
        registry.followed_posts(workspace_id, a) for a in accounts.values()
    ):
        time.sleep(0.2)
    (fan_out,) = [s for k, s in runtime.schedules.items() if k.split(".")[0] == "MetricsFanoutFunction"]
    fan_out.function.invoke(fan_out.event(datetime.now(UTC) + timedelta(minutes=61)))  # as an hour later
    today = datetime.now(UTC).date()
    window = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat(), "format": "json"}
    measured: dict[str, str] = {}
    while time.monotonic() < waited + 20 and len(measured) < len(accounts) - 1:  # WeChat has none a post
        report = call("GET", "/reports", params=window).json()
        measured = {
            p["platform"]: ", ".join(f"{k} {p[k]['current']}" for k in ("impressions", "reach", "engagements")
                                     if p[k]["current"] is not None)
            for p in report["platforms"] if p["engagements"]["current"]
        }  # fmt: skip
        time.sleep(0.5)
    return measured


def _subscribe_alerts(runtime: Any) -> str:
    """An SQS queue subscribed to the alerts topic, to show what e-mail/Slack subscribers would get."""
    sqs, sns = runtime.client("sqs"), runtime.client("sns")
    url = sqs.create_queue(QueueName="demo-alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=runtime.stack.refs["AlertsTopic"], Protocol="sqs", Endpoint=arn)
    return str(url)


def _alerts(runtime: Any, url: str) -> list[dict[str, str]]:
    import json

    out = []
    for m in (
        runtime.client("sqs")
        .receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2)
        .get("Messages", [])
    ):
        note = json.loads(m["Body"])
        out.append({"subject": note.get("Subject", ""), "message": note.get("Message", "")})
    return out
