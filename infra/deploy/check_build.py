"""Checks on what ``sam build`` built (``make package``), before anything is deployed.

``python infra/deploy/check_build.py BUILD_DIR RUNTIME_PYTHON`` (BUILD_DIR: ``.aws-sam/build``) checks:

- every function's handler imports from the built function directory and the built layer alone, on
  the runtime's Python with a clean path (as Lambda does: ``/var/task`` first, then ``/opt/python``;
  no site-packages, no PYTHONPATH). The layer is built for arm64; on another machine its native
  modules cannot load, so the imports run against a twin of the layer: the same pinned requirements
  installed for this machine (``pip install --no-deps``) plus the layer's own ``chorus`` and ``chalice``;
- the unzipped layer plus each function stays under Lambda's 250 MB;
- the layer ships exactly its requirements (one ``.dist-info`` per pin, at the pinned version), its
  native modules are arm64, and nothing of ``tests/``, ``bench/``, ``chorus/local``, pip or chalice's CLI;
- every third-party module the shipped code imports (outside ``if TYPE_CHECKING:``) is in the layer.

Exits 1 with one line per finding.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from requirements import ROOT, Pin, read_lock

sys.path.insert(0, str(ROOT / "shared"))
from chorus.local.template import load_yaml

LAMBDA_UNZIPPED_MAX = 250 * 1024 * 1024  # function + layers, unzipped
LAYER = "ChorusLayer"
FIRST_PARTY = frozenset({"chorus", "chalicelib", "chalice", "app"})
# Top-level names the layer must not ship: the embedded runtime's and the tests' tools, chalice's CLI.
NOT_SHIPPED = frozenset(
    {"tests", "bench", "pip", "setuptools", "wheel", "click", "inquirer", "blessed", "readchar", "yaml",
     "moto", "pytest", "waitress", "websockets", "_distutils_hack"}
)  # fmt: skip
CHALICE_RUNTIME = frozenset({"__init__.py", "app.py"})
EM_AARCH64 = 183  # ELF e_machine of arm64


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def functions(template: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(logical id, built CodeUri, Handler) of every function of the built template."""
    for name, res in template["Resources"].items():
        if res.get("Type") == "AWS::Serverless::Function":
            props = res["Properties"]
            yield name, str(props["CodeUri"]), str(props["Handler"])


def dist_pins(layer: Path) -> dict[str, str]:
    """name -> version of every ``.dist-info`` in the layer (canonical names)."""
    found = {}
    for info in layer.glob("*.dist-info"):
        meta = (info / "METADATA").read_text(errors="replace")
        name = re.search(r"^Name: (.+)$", meta, re.M)
        version = re.search(r"^Version: (.+)$", meta, re.M)
        if name and version:
            found[re.sub(r"[-_.]+", "-", name[1].strip()).lower()] = version[1].strip()
    return found


def content_findings(layer: Path, pins: list[Pin]) -> list[str]:
    problems = []
    wanted = {p.name: p.version for p in pins}
    shipped = dist_pins(layer)
    for name, version in sorted(wanted.items()):
        if shipped.get(name) != version:
            problems.append(f"layer: {name}=={version} is required, shipped: {shipped.get(name, 'nothing')}")
    for name in sorted(shipped.keys() - wanted.keys()):
        problems.append(f"layer: ships {name} {shipped[name]}, which its requirements do not name")
    for entry in sorted(layer.iterdir()):
        top = entry.name.split(".")[0] if entry.is_file() else entry.name
        if top in NOT_SHIPPED:
            problems.append(f"layer: ships {entry.name} (not for Lambda)")
    if (layer / "chorus" / "local").exists():
        problems.append("layer: ships chorus/local (the embedded runtime)")
    extra = sorted(
        p.relative_to(layer).as_posix()
        for p in (layer / "chalice").rglob("*.py")
        if p.relative_to(layer / "chalice").as_posix() not in CHALICE_RUNTIME
    )
    if extra:
        problems.append(f"layer: ships chalice beyond its runtime module: {', '.join(extra[:5])}")
    for lib in layer.rglob("*.so*"):
        with lib.open("rb") as fh:
            head = fh.read(20)
        if head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") != EM_AARCH64:
            problems.append(f"layer: {lib.relative_to(layer)} is not an arm64 module")
    return problems


def imported_modules(tree: ast.AST) -> set[str]:
    """Top-level names of the absolute imports of a module, outside ``if TYPE_CHECKING:`` blocks."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def import_findings(layer: Path, code_dirs: list[Path], stdlib: set[str]) -> list[str]:
    """Every third-party module the shipped code imports is present in the layer."""
    problems = []
    sources = [*(layer / "chorus").rglob("*.py"), *(layer / "chalice").rglob("*.py")]
    sources += [p for d in code_dirs for p in d.rglob("*.py")]
    local = {p.name for d in code_dirs for p in d.iterdir() if p.is_dir()} | {
        p.stem for d in code_dirs for p in d.glob("*.py")
    }
    present = {p.name.split(".")[0] for p in layer.iterdir()}
    for source in sources:
        for name in sorted(imported_modules(ast.parse(source.read_bytes())) - stdlib - FIRST_PARTY - local):
            if name not in present and not name.startswith("_"):
                problems.append(f"{source}: imports {name}, which the layer does not ship")
    return problems


def twin(layer: Path, python: str, dest: Path) -> Path:
    """The layer for this machine: its pins installed for ``python`` here, with its chorus and chalice."""
    requirements = (layer / "requirements.txt").read_bytes()
    stamp = dest / f".requirements-{hashlib.sha256(requirements).hexdigest()[:16]}"
    if not stamp.exists():
        subprocess.run(["rm", "-rf", str(dest)], check=True)
        dest.mkdir(parents=True)
        pip = subprocess.run(
            [python, "-m", "pip", "install", "-q", "--no-deps", "--only-binary", ":all:", "--target",
             str(dest / "python"), "-r", str(layer / "requirements.txt")],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if pip.returncode:
            raise SystemExit(f"installing the layer's requirements for this machine failed:\n{pip.stderr}")
        stamp.touch()
    for package in ("chorus", "chalice"):
        subprocess.run(["rm", "-rf", str(dest / "python" / package)], check=True)
        subprocess.run(["cp", "-R", str(layer / package), str(dest / "python" / package)], check=True)
    return dest / "python"


def handler_findings(build: Path, path_layer: Path, python: str) -> list[str]:
    """Every handler imports on ``python`` from its built directory and ``path_layer`` alone."""
    problems = []
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "LANG": "C.UTF-8",
    }
    template = load_yaml(build / "template.yaml")
    for name, code, handler in functions(template):
        module, _, attr = handler.rpartition(".")
        probe = (
            "import importlib, sys; sys.path[:0] = sys.argv[1:3]; "
            f"handler = getattr(importlib.import_module({module!r}), {attr!r}); "
            "assert callable(handler), 'not callable'; "
            "leaks = [m.__name__ for m in list(sys.modules.values()) if getattr(m, '__file__', None) "
            "and not m.__file__.startswith((sys.argv[1], sys.argv[2], sys.base_prefix))]; "
            "assert not leaks, leaks"
        )
        run = subprocess.run(
            [python, "-S", "-s", "-c", probe, str(build / code), str(path_layer)],
            env=env, capture_output=True, text=True, cwd="/", check=False,
        )  # fmt: skip
        if run.returncode:
            last = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
            problems.append(f"{name}: handler {handler} does not import from the build alone: {last}")
    return problems


def main() -> None:
    build, python = Path(sys.argv[1]).resolve(), sys.argv[2]
    layer = build / LAYER / "python"
    template = load_yaml(build / "template.yaml")
    pins = read_lock((layer / "requirements.txt").read_text())
    problems = content_findings(layer, pins)
    layer_size = size(layer)
    code_dirs = []
    for name, code, _ in functions(template):
        total = layer_size + size(build / code)
        code_dirs.append(build / code)
        if total >= LAMBDA_UNZIPPED_MAX:
            problems.append(f"{name}: function + layer unzipped is {total / 2**20:.0f} MB (Lambda: < 250 MB)")
    stdlib = set(
        subprocess.run(
            [python, "-c", "import sys; print(' '.join(sys.stdlib_module_names))"],
            capture_output=True, text=True, check=True,
        ).stdout.split()
    )  # fmt: skip
    problems += import_findings(layer, code_dirs, stdlib)
    on_arm = os.uname().machine in {"aarch64", "arm64"}
    problems += handler_findings(
        build, layer if on_arm else twin(layer, python, build.parent / "twin"), python
    )
    biggest = max(size(d) for d in code_dirs)
    print(
        f"layer {layer_size / 2**20:.0f} MB ({len(pins)} requirements), largest function "
        f"{biggest / 2**10:.0f} KB, {len(code_dirs)} handlers checked",
        file=sys.stderr,
    )
    for problem in problems:
        print(problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
