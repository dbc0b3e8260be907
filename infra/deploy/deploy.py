"""``make deploy``: deploy what ``make package`` built and checked, then say where it runs.

The first time (no ``samconfig.toml``) ``sam deploy --guided`` asks for the stack name, region and
parameters and saves them in ``samconfig.toml``; later deploys read them from there. Then the stack's
outputs (the HTTP API, the WebSocket and, once the template has one, the web app URLs) and the first
owner's steps are printed. ``--dry-run`` prints what would run and touches no AWS account.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "samconfig.toml"
BUILT_TEMPLATE = ROOT / ".aws-sam" / "build" / "template.yaml"
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
    print(report(stack_outputs(stack, region), region))
    return 0


if __name__ == "__main__":
    sys.exit(main())
