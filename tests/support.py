"""One place that finds test material: the project's sample events and the shared platform fixtures."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EVENTS = REPO / "events"


def fixtures_dir() -> Path:
    """The documented platform payloads in ``../shared/fixtures`` (override with CHORUS_FIXTURES)."""
    override = os.environ.get("CHORUS_FIXTURES")
    path = Path(override) if override else REPO.parent / "shared" / "fixtures"
    if not override and not path.is_dir():
        path = _beside_origin() or path
    if not path.is_dir():
        raise FileNotFoundError(
            f"platform fixtures not found at {path}: clone the repo beside shared/ or set CHORUS_FIXTURES"
        )
    return path


def _beside_origin() -> Path | None:
    """A clone made with `git clone <local checkout>` finds shared/ beside the checkout it came from."""
    import subprocess

    out = subprocess.run(
        ["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not out or "://" in out or out.startswith("git@"):
        return None
    candidate = Path(out).resolve().parent / "shared" / "fixtures"
    return candidate if candidate.is_dir() else None


def fixture_bytes(relative: str) -> bytes:
    """A fixture's exact bytes (signatures are computed over them)."""
    return (fixtures_dir() / relative).read_bytes()


def fixture_json(relative: str) -> Any:
    return json.loads(fixture_bytes(relative))


def load_event(source: str, case: str) -> Any:
    """A sample event from ``events/<source>/<case>.json``."""
    return json.loads((EVENTS / source / f"{case}.json").read_text())
