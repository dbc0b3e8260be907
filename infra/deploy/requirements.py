"""Print the runtime dependencies of pyproject.toml as requirements.txt, for `sam build` of the layer."""

from __future__ import annotations

import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
print("\n".join(project["dependencies"]))
