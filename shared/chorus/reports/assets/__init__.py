"""Third-party browser files that HTML reports inline, vendored so a report needs no network.

``vendor.json`` records, for each file, the npm package and version it came from, its path inside
the package tarball, its licence file here and its SHA-256. ``python -m chorus.reports.assets.refresh``
re-fetches them with ``npm pack`` (set the versions in ``vendor.json`` first) and rewrites the hashes;
``python -m chorus.reports.assets.refresh --check`` verifies the files match the manifest.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files(__name__).joinpath("vendor.json").read_text("utf-8"))
    return data


@cache
def asset_text(name: str) -> str:
    """The text of one vendored file (read once per process)."""
    return resources.files(__name__).joinpath(name).read_text("utf-8")


def verify() -> list[str]:
    """Names of vendored files whose bytes no longer match the SHA-256 in ``vendor.json``."""
    bad = []
    for entry in manifest()["files"]:
        data = resources.files(__name__).joinpath(entry["file"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            bad.append(entry["file"])
    return bad
