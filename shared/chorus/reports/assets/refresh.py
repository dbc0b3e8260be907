"""Re-fetch the vendored browser files from the npm registry: ``python -m chorus.reports.assets.refresh``.

For each entry of ``vendor.json``: ``npm pack <package>@<version>`` into a temporary folder, copy the
file and its licence out of the tarball, and record the new SHA-256. ``--check`` only verifies.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def refresh() -> None:
    manifest_path = HERE / "vendor.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    for entry in manifest["files"]:
        with tempfile.TemporaryDirectory() as tmp:
            spec = f"{entry['npm_package']}@{entry['version']}"
            out = subprocess.run(
                ["npm", "pack", spec, "--silent"], cwd=tmp, check=True, capture_output=True, text=True
            )
            tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
            with tarfile.open(tarball) as tar:
                for member, target in (
                    (entry["path_in_tarball"], entry["file"]),
                    (entry["license_path_in_tarball"], entry["license_file"]),
                ):
                    extracted = tar.extractfile(member)
                    if extracted is None:
                        raise FileNotFoundError(f"{member} not in {spec}")
                    (HERE / target).write_bytes(extracted.read())
        entry["sha256"] = hashlib.sha256((HERE / entry["file"]).read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")


def main(argv: list[str]) -> int:
    if "--check" in argv:
        from chorus.reports.assets import verify

        bad = verify()
        for name in bad:
            print(f"hash mismatch: {name}", file=sys.stderr)
        return 1 if bad else 0
    refresh()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
