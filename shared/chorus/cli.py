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
    from chorus.platforms.sandbox.server import LABEL, SandboxServer

    sandbox = SandboxServer()
    sandbox_url = sandbox.start()
    runtime = LocalRuntime(
        args.template or _repo_template(),
        log_level=args.log_level,
        extra_env={"CHORUS_SANDBOX_URL": sandbox_url},
        parameters={"ListeningSources": "sandbox"},
    ).start()
    STATE.parent.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k.startswith(("CHORUS_", "AWS_"))}
    STATE.write_text(json.dumps({"api_url": runtime.api_url, "ws_url": runtime.ws_url, "env": env}, indent=2))
    print(f"Chorus is running locally (AWS on {runtime.endpoint})")
    print(f"  HTTP API   {runtime.api_url}")
    print(f"  WebSocket  {runtime.ws_url}")
    print(f"  functions  {', '.join(sorted(runtime.functions))}")
    print(f"  sandbox    {sandbox_url}  ({LABEL}; connect accounts with platform 'sandbox')")
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
