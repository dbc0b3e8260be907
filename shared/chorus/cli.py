"""``chorus``: the command line. ``chorus dev`` runs everything locally; other commands act on the
running local runtime (state in .chorus/dev.json) or, with ``--aws``, on the deployed stack (the
CHORUS_* variables and AWS credentials of the shell)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

STATE = Path(".chorus") / "dev.json"


def _repo_template() -> Path:
    here = Path.cwd() / "template.yaml"
    if here.exists():
        return here
    return Path(__file__).resolve().parents[2] / "template.yaml"


def _use_local_state(args: argparse.Namespace) -> None:
    if getattr(args, "aws", False) or not STATE.exists():
        return
    state = json.loads(STATE.read_text())
    os.environ.update(state["env"])
    from chorus.config import reset_caches

    reset_caches()


def cmd_dev(args: argparse.Namespace) -> int:
    from chorus.local.runtime import LocalRuntime
    from chorus.platforms.sandbox.personas import ANSWERED, OAUTH_APPS, api_urls
    from chorus.platforms.sandbox.server import LABEL, SandboxServer

    sandbox = SandboxServer()
    sandbox_url = sandbox.start()
    runtime = LocalRuntime(
        args.template or _repo_template(),
        log_level=args.log_level,
        extra_env={"CHORUS_SANDBOX_URL": sandbox_url, **api_urls(sandbox_url)},
        parameters={"ListeningSources": "sandbox", **OAUTH_APPS},
    ).start()
    STATE.parent.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k.startswith(("CHORUS_", "AWS_"))}
    STATE.write_text(json.dumps({"api_url": runtime.api_url, "ws_url": runtime.ws_url, "env": env}, indent=2))
    print(f"Chorus is running locally (AWS on {runtime.endpoint})")
    print(f"  HTTP API   {runtime.api_url}")
    print(f"  WebSocket  {runtime.ws_url}")
    print(f"  Web app    {runtime.web_url}")
    print(f"  functions  {', '.join(sorted(runtime.functions))}")
    print(f"  sandbox    {sandbox_url}  ({LABEL}; connect accounts with platform 'sandbox')")
    print(f"             it also answers as {', '.join(ANSWERED)}: connect one with any token "
          f"(Mastodon, Bluesky: base_url {sandbox_url}/as/<platform>; LinkedIn, WeChat: docs/platforms.md; "
          f"Douyin, Kuaishou, YouTube: OAuth, GET /accounts/connect/<platform>)")  # fmt: skip
    print("Create a workspace in another shell: chorus workspace create 'My brand'   (Ctrl-C stops)")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    runtime.stop()
    sandbox.stop()
    STATE.unlink(missing_ok=True)
    print("stopped")
    return 0


def cmd_workspace_create(args: argparse.Namespace) -> int:
    _use_local_state(args)
    from chorus.auth.workspaces import create_workspace

    workspace, key = create_workspace(args.name, args.timezone)
    print(json.dumps({"workspace_id": workspace.id, "name": workspace.name, "api_key": key}, indent=2))
    return 0


def _password(args: argparse.Namespace) -> str:
    if args.password:
        return str(args.password)
    env = os.environ.get("CHORUS_PASSWORD")
    if env:
        return env
    import getpass

    return getpass.getpass(f"password for {args.email}: ")


def _user_pool() -> Any:
    from chorus.auth.pool import default_pool

    pool = default_pool()
    if pool is None:
        sys.exit(
            "no user pool: start `chorus dev`, or set CHORUS_COGNITO_USER_POOL_ID/CLIENT_ID (stack outputs)"
        )
    return pool


def cmd_user_create(args: argparse.Namespace) -> int:
    """A person in the user pool (their password goes to the pool only), and their first workspace."""
    _use_local_state(args)
    from datetime import UTC, datetime

    from chorus.auth import members
    from chorus.auth.roles import Role
    from chorus.auth.tokens import Identity

    email = args.email.strip().lower()
    user_id = _user_pool().create_user(email, _password(args))
    answer: dict[str, Any] = {"user_id": user_id, "email": email}
    if args.workspace:
        membership = members.add_member(args.workspace, user_id, email, Role(args.role))
        answer.update(workspace_id=membership.workspace_id, role=membership.role.value)
    elif args.new_workspace:
        now = datetime.now(UTC)
        person = Identity(user_id, email, "id", now, now)
        made = members.create_workspace_for(person, args.new_workspace, args.timezone)
        answer.update(workspace_id=made.id, role=Role.OWNER.value)
    print(json.dumps(answer, indent=2))
    return 0


def cmd_user_sign_in(args: argparse.Namespace) -> int:
    """Sign in from a terminal (USER_PASSWORD_AUTH): the ID, access and refresh tokens as JSON."""
    _use_local_state(args)
    from dataclasses import asdict

    print(json.dumps(asdict(_user_pool().sign_in(args.email.strip().lower(), _password(args))), indent=2))
    return 0


def cmd_inbox_unrouted(args: argparse.Namespace) -> int:
    _use_local_state(args)
    from dataclasses import asdict

    from chorus.inbox.unrouted import unrouted

    print(json.dumps([asdict(u) for u in unrouted(args.limit)], indent=2, default=str))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from chorus.local.demo import run_demo

    return int(run_demo(args.template or _repo_template()))


def cmd_sentiment_eval(args: argparse.Namespace) -> int:
    from chorus.listening.sentiment import evaluate

    print(json.dumps(evaluate(args.file), indent=2, sort_keys=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chorus", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run Chorus locally (moto + the template's event sources) until Ctrl-C")
    dev.add_argument("--template", type=Path)
    dev.add_argument("--log-level", default="WARNING")
    dev.set_defaults(fn=cmd_dev)

    demo = sub.add_parser("demo", help="start the local runtime, run the main jobs, print what happened")
    demo.add_argument("--template", type=Path)
    demo.set_defaults(fn=cmd_demo)

    ws = sub.add_parser("workspace", help="workspaces").add_subparsers(dest="action", required=True)
    create = ws.add_parser("create", help="create a workspace and print its owner API key")
    create.add_argument("name")
    create.add_argument("--timezone", default="UTC")
    create.add_argument("--aws", action="store_true", help="act on the deployed stack, not the local runtime")
    create.set_defaults(fn=cmd_workspace_create)

    user = sub.add_parser("user", help="people (the Cognito user pool)").add_subparsers(
        dest="action", required=True
    )
    made = user.add_parser("create", help="a person in the user pool, with a new or an existing workspace")
    made.add_argument("email")
    made.add_argument("--password", help="else $CHORUS_PASSWORD, else asked")
    made.add_argument("--new-workspace", metavar="NAME", help="create this workspace with them as its owner")
    made.add_argument("--workspace", metavar="ID", help="make them a member of this existing workspace")
    made.add_argument(
        "--role", default="owner", choices=["owner", "admin", "editor", "contributor", "viewer"]
    )
    made.add_argument("--timezone", default="UTC")
    made.add_argument("--aws", action="store_true", help="act on the deployed stack, not the local runtime")
    made.set_defaults(fn=cmd_user_create)
    signin = user.add_parser("sign-in", help="print the ID, access and refresh tokens of a person")
    signin.add_argument("email")
    signin.add_argument("--password", help="else $CHORUS_PASSWORD, else asked")
    signin.add_argument("--aws", action="store_true", help="act on the deployed stack, not the local runtime")
    signin.set_defaults(fn=cmd_user_sign_in)

    inbox = sub.add_parser("inbox", help="the inbox, as operators see it").add_subparsers(
        dest="action", required=True
    )
    kept = inbox.add_parser(
        "unrouted", help="inbound events for no connected account (kept aside, newest first)"
    )
    kept.add_argument("--limit", type=int, default=50)
    kept.add_argument("--aws", action="store_true", help="act on the deployed stack, not the local runtime")
    kept.set_defaults(fn=cmd_inbox_unrouted)

    sentiment = sub.add_parser("sentiment", help="sentiment analysis").add_subparsers(
        dest="action", required=True
    )
    evaluation = sentiment.add_parser("eval", help="accuracy and macro-F1 on a CSV with text,label columns")
    evaluation.add_argument("file", type=Path)
    evaluation.set_defaults(fn=cmd_sentiment_eval)

    args = parser.parse_args(argv)
    result: Any = args.fn(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
