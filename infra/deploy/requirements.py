"""The Lambda layer's requirements, taken from the lock file (``requirements.lock``).

The lock pins the whole set (runtime, dev, the layer's) for every platform (``uv pip compile
--universal``: lines may carry environment markers). The layer ships the closure of pyproject.toml's
runtime ``dependencies`` in the lock, for Lambda's environment (the template's runtime on arm64 Linux),
read from the lock's ``# via`` annotations, with two exceptions:

- ``VENDORED``: chalice ships only its runtime module (``chalice/__init__.py``, ``chalice/app.py``,
  standard library only, as chalice's own packager does); its CLI dependencies (pip, click,
  inquirer, ...) are not needed on Lambda and are not shipped.
- nothing else: every other runtime dependency and what it needs comes from the lock, pinned.

``python infra/deploy/requirements.py`` prints the layer's requirements.txt (``name==version`` lines).
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
SELF = "chorus (pyproject.toml)"  # how the lock's annotations name pyproject.toml's own requirements
VENDORED = frozenset({"chalice"})  # shipped as its runtime module only (see infra/deploy/layer.py)

# Lambda's python3.12 on arm64 (Amazon Linux 2023), for the lock's environment markers.
LAMBDA_ENV: Mapping[str, str] = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.0",
    "os_name": "posix",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "python_full_version": "3.12.0",
    "python_version": "3.12",
    "sys_platform": "linux",
}

PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;]+)\s*(?:;\s*(?P<marker>.+))?$")


@dataclass(frozen=True)
class Pin:
    name: str  # canonical (PEP 503) name
    version: str
    marker: str | None
    via: tuple[str, ...]  # canonical names of the packages that require it, or SELF

    def line(self) -> str:
        return f"{self.name}=={self.version}"

    def applies(self, env: Mapping[str, str] = LAMBDA_ENV) -> bool:
        return self.marker is None or Marker(self.marker).evaluate(dict(env))


def read_lock(text: str) -> list[Pin]:
    """The pins of a ``uv pip compile`` output with its ``# via`` annotations (one or several lines)."""
    pins: list[Pin] = []
    current: tuple[str, str, str | None] | None = None
    via: list[str] = []

    def close() -> None:
        if current is not None:
            pins.append(Pin(*current, tuple(via)))

    for raw in text.splitlines():
        line = raw.strip()
        match = PIN.match(line)
        if match:
            close()
            current = (canonicalize_name(match["name"]), match["version"], match["marker"])
            via = []
        elif line.startswith("# via"):
            rest = line.removeprefix("# via").strip()
            if rest:
                via.append(rest if rest == SELF else str(canonicalize_name(rest)))
        elif line.startswith("#   ") and current is not None:
            name = line.removeprefix("#").strip()
            via.append(name if name == SELF else str(canonicalize_name(name)))
    close()
    return pins


def runtime_names(pyproject: str) -> set[str]:
    """pyproject.toml's runtime ``dependencies``, canonical names."""
    deps = tomllib.loads(pyproject)["project"]["dependencies"]
    return {canonicalize_name(Requirement(d).name) for d in deps}


def layer_pins(lock: str, pyproject: str, env: Mapping[str, str] = LAMBDA_ENV) -> list[Pin]:
    """The lock's pins the layer installs: the runtime closure for ``env``, without ``VENDORED`` and
    what only they need. Raises ValueError when a runtime dependency is missing from the lock."""
    pins = [p for p in read_lock(lock) if p.applies(env)]
    by_name = {p.name: p for p in pins}
    direct = runtime_names(pyproject)
    missing = sorted(direct - by_name.keys())
    if missing:
        raise ValueError(f"not in requirements.lock (run make lock): {', '.join(missing)}")
    shipped = set(direct - VENDORED)
    grew = True
    while grew:  # a pin is shipped when a shipped package requires it
        grew = False
        for pin in pins:
            if pin.name not in shipped and pin.name not in VENDORED and shipped.intersection(pin.via):
                shipped.add(pin.name)
                grew = True
    return sorted((by_name[n] for n in shipped), key=lambda p: p.name)


def main() -> None:
    pins = layer_pins(LOCK.read_text(), PYPROJECT.read_text())
    sys.stdout.write("".join(f"{p.line()}\n" for p in pins))


if __name__ == "__main__":
    main()
