"""Tags people give things (media library files, posts): one spelling rule for all of them."""

from __future__ import annotations

from collections.abc import Sequence

from chorus.errors import FieldError, ValidationFailed

MAX_TAG_LENGTH = 50
MAX_TAGS = 20
RULE = f"1-{MAX_TAG_LENGTH} characters, no comma"


def spelled(tag: str) -> str | None:
    """``tag`` trimmed and lower-cased, or None when it is empty, longer than :data:`MAX_TAG_LENGTH`
    or holds a comma or line break (tags are listed comma-separated in CSV exports)."""
    clean = tag.strip().lower()
    if not clean or len(clean) > MAX_TAG_LENGTH or any(c in clean for c in ",\n\r\t"):
        return None
    return clean


def clean_tags(raw: Sequence[str], field: str = "tags", limit: int = MAX_TAGS) -> list[str]:
    """``raw`` as :func:`spelled`, each once in its first place; a 422 naming ``field[i]`` for a tag
    that is not one, and naming ``field`` for more than ``limit`` tags."""
    errors = [FieldError(f"{field}[{i}]", RULE, "tag") for i, tag in enumerate(raw) if spelled(tag) is None]
    if len(raw) > limit:
        errors.append(FieldError(field, f"at most {limit} tags", "too_many"))
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    return list(dict.fromkeys(str(spelled(tag)) for tag in raw))


def clean_tag(raw: str, field: str = "tag") -> str:
    """One tag (a filter's ``?tag=``) as :func:`spelled`: a 422 naming ``field`` when it is not one."""
    clean = spelled(raw)
    if clean is None:
        raise ValidationFailed.on(field, RULE, "tag")
    return clean
