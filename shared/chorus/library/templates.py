"""Text templates: a text with ``{{variable}}`` placeholders, the variables it declares (each with an
optional default), and per-platform variants of the text. The composer renders one with values and puts
the result in a post (``render``); a platform's variant replaces the text for that platform's accounts.

Rules: a placeholder is ``{{name}}`` (spaces inside the braces allowed), a name is a letter or ``_``
then letters, digits or ``_`` (case-sensitive). Every placeholder must be declared. Rendering refuses,
with a 422 naming them, values for variables the template does not declare and declared variables
with no default and no value; everything else is replaced, nothing is left unrendered."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chorus.auth.keys import Principal, new_id
from chorus.errors import Conflict, FieldError, ValidationFailed
from chorus.library import keys
from chorus.library import store as repo
from chorus.library.access import may_change
from chorus.posts.validation import PLATFORM_RULES, text_fitness
from chorus.store.pages import Page, PageRequest

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_VARIABLES = 50


@dataclass(frozen=True)
class Variable:
    name: str
    default: str | None = None  # None: a value is required
    description: str = ""

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "default": self.default, "description": self.description}


@dataclass(frozen=True)
class Template:
    workspace_id: str
    id: str
    name: str
    text: str
    variables: tuple[Variable, ...] = ()
    variants: dict[str, str] = field(default_factory=dict)  # platform -> text
    created_by: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "text": self.text,
            "variables": [v.public() for v in self.variables],
            "variants": dict(self.variants),
            "created_by": self.created_by,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "version": self.version,
        }


@dataclass(frozen=True)
class Rendered:
    text: str
    variants: dict[str, str]  # platform -> rendered text
    values: dict[str, str]  # every variable's value used (given or default)
    fitness: dict[str, list[dict[str, str]]]  # platform -> the text rules its rendered text breaks

    def public(self) -> dict[str, Any]:
        return {"text": self.text, "variants": self.variants, "values": self.values, "fitness": self.fitness}


def placeholders(text: str) -> list[str]:
    """The names of ``text``'s placeholders in order of first use."""
    seen: list[str] = []
    for match in PLACEHOLDER.finditer(text):
        if match.group(1) not in seen:
            seen.append(match.group(1))
    return seen


def check(text: str, variables: tuple[Variable, ...], variants: Mapping[str, str]) -> None:
    """422 naming every field at fault: a bad variable name, one declared twice, an unknown platform,
    a placeholder that is not a variable name or is not declared."""
    errors: list[FieldError] = []
    declared: set[str] = set()
    if len(variables) > MAX_VARIABLES:
        errors.append(FieldError("variables", f"at most {MAX_VARIABLES}", "too_many"))
    for i, variable in enumerate(variables):
        if not NAME.fullmatch(variable.name):
            errors.append(
                FieldError(f"variables[{i}].name", "a letter or _ then letters, digits or _", "variable_name")
            )
        elif variable.name in declared:
            errors.append(
                FieldError(f"variables[{i}].name", f"{variable.name} is declared twice", "duplicate")
            )
        declared.add(variable.name)
    texts = [("text", text)] + [(f"variants.{p}", t) for p, t in variants.items()]
    for platform in variants:
        if platform not in PLATFORM_RULES:
            known = ", ".join(sorted(PLATFORM_RULES))
            errors.append(FieldError(f"variants.{platform}", f"unknown platform; one of {known}", "platform"))
    for where, value in texts:
        used = placeholders(value)
        bad = [n for n in used if not NAME.fullmatch(n)]
        undeclared = [n for n in used if NAME.fullmatch(n) and n not in declared]
        if bad:
            errors.append(FieldError(where, f"not a variable name: {', '.join(bad)}", "placeholder"))
        if undeclared:
            errors.append(
                FieldError(where, f"undeclared variables: {', '.join(undeclared)}", "unknown_variable")
            )
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each placeholder replaced by its value (all of them must be in ``values``)."""
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def render_template(template: Template, given: Mapping[str, str]) -> Rendered:
    """The template's text and variants with ``given`` values (defaults for the rest). A value for a
    variable the template does not declare, or a required variable without one, is a 422 naming it."""
    declared = {v.name: v for v in template.variables}
    unknown = sorted(set(given) - set(declared))
    missing = [v.name for v in template.variables if v.default is None and v.name not in given]
    errors = [
        FieldError(f"variables.{n}", "not a variable of this template", "unknown_variable") for n in unknown
    ]
    errors += [
        FieldError(f"variables.{n}", "required: this variable has no default", "required") for n in missing
    ]
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    values = {name: given.get(name, variable.default or "") for name, variable in declared.items()}
    text = fill(template.text, values)
    variants = {platform: fill(body, values) for platform, body in template.variants.items()}
    fitness = {}
    for platform in sorted(PLATFORM_RULES):
        rendered = variants.get(platform, text)
        fitness[platform] = [{"rule": v.rule, "message": v.message} for v in text_fitness(platform, rendered)]
    return Rendered(text, variants, values, fitness)


# ------------------------------------------------------------------ storage


def _from_item(item: repo.TemplateItem) -> Template:
    body = item.body or {}
    return Template(
        workspace_id=item.workspace_id,
        id=item.template_id,
        name=item.name,
        text=body.get("text", ""),
        variables=tuple(
            Variable(v["name"], v.get("default"), v.get("description", "")) for v in body.get("variables", [])
        ),
        variants=dict(body.get("variants", {})),
        created_by=item.created_by,
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version or 1),
    )


def _body(text: str, variables: tuple[Variable, ...], variants: Mapping[str, str]) -> dict[str, Any]:
    return {"text": text, "variables": [v.public() for v in variables], "variants": dict(variants)}


def create(
    principal: Principal, name: str, text: str, variables: tuple[Variable, ...], variants: Mapping[str, str]
) -> Template:
    may_change(principal)
    check(text, variables, variants)
    now = datetime.now(UTC)
    template_id = new_id("tpl_")
    item = repo.TemplateItem(
        keys.library_pk(principal.workspace_id),
        keys.template_sk(template_id),
        workspace_id=principal.workspace_id,
        template_id=template_id,
        name=name,
        body=_body(text, variables, variants),
        created_by=principal.actor,
        created_at=now,
        updated_at=now,
        version=1,
    )
    repo.put_new(item)
    return _from_item(item)


def get(principal: Principal, template_id: str) -> Template:
    return _from_item(repo.get_template(principal.workspace_id, template_id))


def page(principal: Principal, request: PageRequest) -> Page[Template]:
    return repo.mapped_page(
        repo.TemplateItem, principal.workspace_id, keys.TEMPLATE_PREFIX, request, _from_item
    )


def update(
    principal: Principal,
    template_id: str,
    name: str,
    text: str,
    variables: tuple[Variable, ...],
    variants: Mapping[str, str],
    expected_version: int | None,
) -> Template:
    """Replace a template; with ``expected_version`` a 409 when it is at another version."""
    may_change(principal)
    check(text, variables, variants)
    item = repo.get_template(principal.workspace_id, template_id)
    version = int(item.version or 1)
    if expected_version is not None and expected_version != version:
        raise Conflict(f"template {template_id} is at version {version}, not {expected_version}")
    item.name = name
    item.body = _body(text, variables, variants)
    item.updated_at = datetime.now(UTC)
    item.version = version + 1
    repo.save_versioned(item, version)
    return _from_item(item)


def remove(principal: Principal, template_id: str) -> None:
    may_change(principal)
    repo.delete(repo.get_template(principal.workspace_id, template_id))


def render(principal: Principal, template_id: str, given: Mapping[str, str]) -> Rendered:
    return render_template(get(principal, template_id), given)
