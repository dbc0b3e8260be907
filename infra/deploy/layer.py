"""Stage the Lambda layer's source for ``sam build`` (the template's ``ChorusLayer`` ContentUri).

``python infra/deploy/layer.py [DEST]`` (default ``build/layer``) writes:

- ``requirements.txt``: the layer's pins from ``requirements.lock`` (infra/deploy/requirements.py);
  ``sam build`` installs them for the template's runtime and architecture;
- ``chorus/``: the package without what Lambda never runs: the embedded runtime (``chorus/local``),
  caches and build metadata;
- ``chalice/__init__.py`` and ``chalice/app.py``: chalice's runtime module (standard library only),
  copied from the installed chalice, which must be the locked version.

Files are rewritten only when their content changed, so the stage keeps its modification times and
``make package`` stays incremental.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from requirements import LOCK, PYPROJECT, ROOT, layer_pins, read_lock

PACKAGE = ROOT / "shared" / "chorus"
NOT_SHIPPED = ("local",)  # chorus subpackages Lambda never imports (the embedded runtime)
SKIPPED_PARTS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache"})
CHALICE_RUNTIME = ("__init__.py", "app.py")


def shipped_files(package: Path = PACKAGE) -> list[Path]:
    """The package's files the layer ships, relative to the package's parent."""
    files = []
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if not path.is_file() or SKIPPED_PARTS.intersection(rel.parts) or path.suffix == ".pyc":
            continue
        if rel.parts[0] in NOT_SHIPPED:
            continue
        files.append(path.relative_to(package.parent))
    return files


def write_if_changed(dest: Path, data: bytes) -> None:
    if dest.is_file() and dest.read_bytes() == data:
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)


def chalice_runtime() -> dict[str, bytes]:
    """chalice's runtime files from the installed distribution, which must be the locked version."""
    locked = {p.name: p.version for p in read_lock(LOCK.read_text())}.get("chalice")
    installed = importlib.metadata.version("chalice")
    if installed != locked:
        raise SystemExit(
            f"chalice {installed} is installed, requirements.lock pins {locked}: run make install"
        )
    dist = importlib.metadata.distribution("chalice")
    return {
        f"chalice/{name}": Path(str(dist.locate_file(f"chalice/{name}"))).read_bytes()
        for name in CHALICE_RUNTIME
    }


def stage(dest: Path) -> list[str]:
    """Write the layer's source into ``dest``; return the relative paths written (or kept)."""
    wanted: dict[str, bytes] = {
        "requirements.txt": "".join(
            f"{p.line()}\n" for p in layer_pins(LOCK.read_text(), PYPROJECT.read_text())
        ).encode(),
        **chalice_runtime(),
    }
    for rel in shipped_files():
        wanted[rel.as_posix()] = (PACKAGE.parent / rel).read_bytes()
    for rel, data in wanted.items():
        write_if_changed(dest / rel, data)
    for path in sorted(dest.rglob("*"), reverse=True):  # files the package no longer has
        rel = path.relative_to(dest).as_posix()
        if path.is_file() and rel not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return sorted(wanted)


def main() -> None:
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "layer"
    if dest.exists() and not dest.is_dir():
        raise SystemExit(f"{dest} is not a directory")
    written = stage(dest)
    print(f"staged {len(written)} files in {dest}")


if __name__ == "__main__":
    main()
