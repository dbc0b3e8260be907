"""No function holds a permission it does not use, for the token key: only the functions that call a
platform with an account's tokens may decrypt them (``chorus.accounts.service.credentials``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from chorus.local.template import Template

REPO = Path(__file__).resolve().parents[2]
# The functions that decrypt tokens, and the call that does it in each.
DECRYPTING = {
    "PublisherFunction": "shared/chorus/posts/publisher.py",  # publishes with the account's token
    "ReplierFunction": "shared/chorus/inbox/replies.py",  # sends inbox replies
    "PollerFunction": "shared/chorus/inbox/poller.py",  # polls Mastodon/Bluesky notifications
    "CollectorFunction": "shared/chorus/metrics/service.py",  # collects metrics
    # reads an Instagram competitor through the workspace's own professional account (business discovery)
    "CompetitorsFunction": "shared/chorus/competitors/timelines.py",
    # revokes a removed account's authorisations from the table's stream (the API only seals tokens)
    "InboxEventsFunction": "shared/chorus/accounts/revocation.py",
}


def functions() -> dict[str, dict[str, Any]]:
    resources = Template.load(REPO / "template.yaml").resources
    return {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}


def kms_actions(props: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for policy in props.get("Policies") or []:
        if isinstance(policy, dict):
            found |= {"decrypt"} if "KMSDecryptPolicy" in policy else set()
            found |= {"encrypt"} if "KMSEncryptPolicy" in policy else set()
            for statement in policy.get("Statement") or []:
                actions = statement.get("Action")
                for action in [actions] if isinstance(actions, str) else actions or []:
                    if action.lower().startswith("kms:") or action == "*":
                        found.add(action.lower().removeprefix("kms:"))
    return found


def calls_credentials(path: str) -> bool:
    tree = ast.parse((REPO / path).read_text())
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute | ast.Name)
        and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
        in ("credentials", "refreshed_credentials")
        for node in ast.walk(tree)
    )


def test_only_the_functions_that_call_platforms_with_tokens_may_decrypt_them() -> None:
    holders = {name for name, props in functions().items() if {"decrypt", "*"} & kms_actions(props)}
    assert holders == set(DECRYPTING)


def test_each_decrypting_function_does_decrypt() -> None:
    # the table above is not a guess: each of them calls credentials() (which decrypts)
    assert all(calls_credentials(path) for path in DECRYPTING.values())


def test_the_api_encrypts_tokens_it_is_given_and_never_decrypts() -> None:
    api = functions()["ApiFunction"]
    assert kms_actions(api) == {"encrypt", "generatedatakey"}
    # no route handler asks for credentials (connecting proves ownership with the plaintext it was given)
    for view in (REPO / "chalice").rglob("*.py"):
        assert not calls_credentials(str(view.relative_to(REPO))), view


def test_the_functions_that_seal_tokens_get_data_keys_and_only_they() -> None:
    """Tokens are sealed under a data key (chorus.accounts.tokens): whoever encrypts tokens generates data
    keys, for the token purpose only; a function that only decrypts them generates none."""
    sealing = {name for name, props in functions().items() if "encrypt" in kms_actions(props)}
    generating = {name for name, props in functions().items() if "generatedatakey" in kms_actions(props)}
    assert (
        sealing == generating == {"ApiFunction", *DECRYPTING} - {"CompetitorsFunction", "InboxEventsFunction"}
    )
    for name in generating:
        (statement,) = [
            s
            for policy in functions()[name]["Policies"]
            if isinstance(policy, dict)
            for s in policy.get("Statement") or []
            if s.get("Action") == "kms:GenerateDataKey"
        ]
        assert statement["Resource"] == {"Fn::GetAtt": ["TokenKey", "Arn"]}
        assert statement["Condition"] == {
            "StringEquals": {"kms:EncryptionContext:purpose": "platform-tokens"}
        }


def media_bucket_access(props: dict[str, Any]) -> set[str]:
    """What a function may do to the media bucket: SAM policy templates by name, statements by action."""
    found: set[str] = set()
    for policy in props.get("Policies") or []:
        if not isinstance(policy, dict):
            continue
        for name, args in policy.items():
            if (
                name.startswith("S3")
                and isinstance(args, dict)
                and args.get("BucketName") == {"Ref": "MediaBucket"}
            ):
                found.add(name)
        for statement in policy.get("Statement") or []:
            if "MediaBucket" in str(statement.get("Resource")):
                actions = statement.get("Action")
                found |= {actions} if isinstance(actions, str) else set(actions or [])
    return found


def media_bucket_grants(props: dict[str, Any]) -> set[tuple[str, str]]:
    """(action, the object keys it covers) of each statement naming the media bucket."""
    found: set[tuple[str, str]] = set()
    for policy in props.get("Policies") or []:
        for statement in policy.get("Statement") or [] if isinstance(policy, dict) else []:
            actions = statement.get("Action")
            for action in [actions] if isinstance(actions, str) else actions or []:
                for keys in re.findall(r"\$\{MediaBucket\.Arn\}([^'\"]*)", str(statement.get("Resource"))):
                    found.add((action, keys))
    return found


def test_the_api_only_puts_media_through_presigned_uploads_and_the_publisher_only_reads_it() -> None:
    assert media_bucket_access(functions()["ApiFunction"]) == {
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:GetObject",
    }
    # the API reads thumbnails only (presigned links of the media library), never the media itself
    assert media_bucket_grants(functions()["ApiFunction"]) == {
        ("s3:PutObject", "/*"),
        ("s3:DeleteObject", "/*/media/*"),
        ("s3:DeleteObject", "/*/thumbs/*"),
        ("s3:GetObject", "/*/thumbs/*"),
    }
    assert media_bucket_access(functions()["PublisherFunction"]) == {"S3ReadPolicy"}


def test_the_media_library_function_reads_uploads_and_writes_only_thumbnails() -> None:
    assert media_bucket_grants(functions()["MediaLibraryFunction"]) == {
        ("s3:GetObject", "/*/media/*"),
        ("s3:PutObject", "/*/thumbs/*"),
    }
