"""``make deploy``: deploy what ``make package`` built and checked, then say where it runs.

The first time (no ``samconfig.toml``) ``sam deploy --guided`` asks for the stack name, region and
parameters and saves them in ``samconfig.toml``; later deploys read them from there. Then the stack's
outputs (the HTTP API, the WebSocket and the web app URLs) and the first owner's steps are printed.
The web app (``web/dist``, built by ``make web``) is uploaded to the stack's ``WebBucketName`` with its
``config.json`` (the API under ``/api`` on CloudFront's origin, the WebSocket, the user pool): hashed
assets cached a year, ``index.html`` and the config never. ``--dry-run`` prints what would run and touches
no AWS account.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "samconfig.toml"
BUILT_TEMPLATE = ROOT / ".aws-sam" / "build" / "template.yaml"
WEB_DIST = ROOT / "web" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
URL_OUTPUTS = (("ApiUrl", "HTTP API"), ("WebSocketUrl", "WebSocket"), ("WebAppUrl", "web app"))


def deploy_command(sam: str, template: Path, config: Path) -> list[str]:
    """``sam deploy``: guided while there is no saved configuration, from ``config`` after."""
    command = [sam, "deploy", "--template-file", str(template), "--config-file", str(config)]
    return [*command, "--guided"] if not config.exists() else command


def saved_stack(config: Path) -> tuple[str, str | None]:
    """(stack name, region) saved by ``sam deploy --guided`` in samconfig.toml."""
    params = tomllib.loads(config.read_text()).get("default", {}).get("deploy", {}).get("parameters", {})
    if "stack_name" not in params:
        raise SystemExit(f"{config} names no stack (default.deploy.parameters.stack_name)")
    return str(params["stack_name"]), params.get("region")


def report(outputs: Mapping[str, str], region: str | None) -> str:
    """The URLs of a deployed stack and the first owner's steps."""
    lines = [f"{label:<10} {outputs[key]}" for key, label in URL_OUTPUTS if key in outputs]
    table = outputs.get("MainTableName", "<MainTableName output>")
    pool = outputs.get("UserPoolId", "<UserPoolId output>")
    client = outputs.get("UserPoolClientId", "<UserPoolClientId output>")
    env = f"CHORUS_TABLE={table}" + (f" AWS_REGION={region}" if region else "")
    people = f"{env} CHORUS_COGNITO_USER_POOL_ID={pool} CHORUS_COGNITO_CLIENT_ID={client}"
    api = outputs.get("ApiUrl", "<ApiUrl>")
    lines += [
        "",
        "First owner (with this account's AWS credentials in the shell):",
        f'  1. {people} .venv/bin/chorus user create you@example.com --new-workspace "<your workspace>" '
        "--timezone <Area/City> --aws",
        "     makes you a person of the user pool (your password goes to the pool only) and the workspace's owner",
        f"  2. {people} .venv/bin/chorus user sign-in you@example.com --aws   prints your ID token (or sign in "
        "in the web app)",
        f'  3. curl -H "Authorization: Bearer <id token>" {api}/me   lists your workspaces; then '
        f'-H "X-Chorus-Workspace: <id>" {api}/workspace',
        "  4. connect accounts (POST /accounts, or /oauth), invite people (POST /invitations, with the MailFrom "
        "parameter set), API keys for scripts (POST /keys)",
        f'  (or, without people: {env} .venv/bin/chorus workspace create "<your workspace>" --aws prints an '
        "owner API key once)",
    ]
    return "\n".join(lines)


def publish_web(s3: Any, bucket: str, dist: Path, config: Mapping[str, str]) -> list[str]:
    """Upload the built app and its config to ``bucket``; the keys written, ``index.html`` last (a page
    never names an asset not there yet)."""
    files = sorted(
        (p for p in dist.rglob("*") if p.is_file()), key=lambda p: (p.name == "index.html", str(p))
    )
    written = []
    for path in files:
        key = path.relative_to(dist).as_posix()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        cache = IMMUTABLE if key.startswith("assets/") else "no-cache"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=kind, CacheControl=cache)
        written.append(key)
    body = json.dumps(dict(config)).encode()
    s3.put_object(
        Bucket=bucket, Key="config.json", Body=body, ContentType="application/json", CacheControl="no-cache"
    )
    return [*written, "config.json"]


def stack_outputs(stack: str, region: str | None) -> dict[str, str]:
    import boto3

    described = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack)
    return {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0].get("Outputs", [])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sam", default="sam", help="the SAM CLI")
    parser.add_argument("--template", type=Path, default=BUILT_TEMPLATE, help="the built template")
    parser.add_argument("--config", type=Path, default=CONFIG, help="samconfig.toml")
    parser.add_argument("--dry-run", action="store_true", help="print the deploy command, call no AWS")
    args = parser.parse_args(argv)
    if not args.template.exists():
        print(f"{args.template} does not exist: run make package first", file=sys.stderr)
        return 1
    command = deploy_command(args.sam, args.template, args.config)
    if args.dry_run:
        print("would run: " + " ".join(command))
        print(report({}, None))
        return 0
    subprocess.run(command, check=True, cwd=ROOT)
    stack, region = saved_stack(args.config)
    outputs = stack_outputs(stack, region)
    if "WebBucketName" in outputs:
        import boto3

        from chorus.local.webapp import web_config

        if not (WEB_DIST / "index.html").is_file():
            print(f"{WEB_DIST} is not built: run make web, then make deploy again", file=sys.stderr)
            return 1
        s3 = boto3.client("s3", region_name=region)
        written = publish_web(
            s3,
            outputs["WebBucketName"],
            WEB_DIST,
            web_config(
                outputs.get("WebSocketUrl", ""),
                region or s3.meta.region_name,
                outputs["UserPoolId"],
                outputs["UserPoolClientId"],
            ),
        )
        print(f"web app: {len(written)} files in s3://{outputs['WebBucketName']}")
    print(report(outputs, region))
    return 0


if __name__ == "__main__":
    sys.exit(main())
