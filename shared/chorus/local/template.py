"""Read template.yaml: CloudFormation short-form tags, SAM Globals, and intrinsic resolution.

This is the only reader of the template; the embedded runtime provisions and wires everything from
what it returns, so nothing is declared twice.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_TAGS = [
    "Ref", "GetAtt", "Sub", "Join", "Select", "Split", "If", "Equals", "Not", "And", "Or",
    "FindInMap", "GetAZs", "ImportValue", "Base64", "Condition", "Cidr",
]  # fmt: skip


class _Loader(yaml.SafeLoader):
    pass


def _make_constructor(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict[str, Any]]:
    key = "Ref" if tag == "Ref" else ("Condition" if tag == "Condition" else f"Fn::{tag}")

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return construct


for _tag in _TAGS:
    _Loader.add_constructor(f"!{_tag}", _make_constructor(_tag))


def load_yaml(path: Path) -> dict[str, Any]:
    with path.open() as fh:
        data = yaml.load(fh, Loader=_Loader)  # noqa: S506 - SafeLoader subclass with CFN tags only
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path} is not a CloudFormation template")
    return data


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return copy.deepcopy(override)


@dataclass
class Template:
    path: Path
    raw: dict[str, Any]
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Template:
        raw = load_yaml(path)
        globals_fn = raw.get("Globals", {}).get("Function", {})
        resources: dict[str, dict[str, Any]] = {}
        for name, res in raw["Resources"].items():
            res = copy.deepcopy(res)
            if res.get("Type") == "AWS::Serverless::Function":
                res["Properties"] = _merge(globals_fn, res.get("Properties", {}))
            resources[name] = res
        return cls(path=path, raw=raw, resources=resources)

    @property
    def root(self) -> Path:
        return self.path.parent

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") in types}

    def parameter_defaults(self) -> dict[str, Any]:
        return {k: v.get("Default", "") for k, v in self.raw.get("Parameters", {}).items()}


_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class Resolver:
    """Resolves Ref / GetAtt / Sub / Join / Select / If against what has been provisioned."""

    def __init__(
        self,
        refs: Mapping[str, Any],
        attrs: Mapping[tuple[str, str], Any],
        conditions: Mapping[str, bool] | None = None,
    ) -> None:
        self.refs = refs
        self.attrs = attrs
        self.conditions = conditions or {}

    def ref(self, name: str) -> Any:
        if name not in self.refs:
            raise KeyError(f"Ref to unknown or not yet provisioned {name!r}")
        return self.refs[name]

    def getatt(self, name: str, attr: str) -> Any:
        if (name, attr) not in self.attrs:
            raise KeyError(f"GetAtt {name}.{attr} is not known to the local runtime")
        return self.attrs[(name, attr)]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                name, attr = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.getatt(name, attr)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(x) for x in self.resolve(items))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text)).split(sep)
            if key == "Fn::If":
                cond, yes, no = arg
                return self.resolve(yes if self.conditions.get(cond, False) else no)
            if key == "Fn::Equals":
                a, b = self.resolve(arg)
                return a == b
            if key == "Fn::Not":
                return not self.resolve(arg[0])
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            var = match.group(1)
            if var in variables:
                return str(variables[var])
            if "." in var:
                name, attr = var.split(".", 1)
                return str(self.getatt(name, attr))
            return str(self.ref(var))

        return _SUB_VAR.sub(replace, text)
