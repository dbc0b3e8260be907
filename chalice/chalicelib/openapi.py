"""The API's OpenAPI 3.1 document, generated from the routes themselves (served at ``GET /openapi.json``).

Nothing here is written by hand per route: every route Chalice knows is read from its view function.

* request body: the pydantic model the view passes to ``body(request, Model)``;
* query parameters: the model of ``parse(Model, query(request))``, and every literal key the view (or a
  helper it hands the query mapping to, in this package or in ``chorus``) reads from ``query(...)``;
* security: a bearer API key or a sign-in token with the workspace header, except the public prefixes
  (``web.PUBLIC_PREFIXES``) and the routes of people (a sign-in token only); the least role the view
  asks ``principal(Role.X)`` for is given as ``x-chorus-role``;
* answers: the statuses the view returns (``ok(..., status=N)``, ``Response(status_code=N)``; a dict
  literal answered gives the object's properties, ``next_cursor`` a string or null), and for every route
  the 4XX problem body (RFC 9457, ``chorus.errors.ChorusError.problem``) naming the field.

A route added with ``web.route`` is in the document without any edit here; a test compares the document
with template.yaml's ``ApiFunction`` events (paths, methods, security).
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from chalicelib.web import PUBLIC_PREFIXES
from chorus.auth.roles import USER_ROUTES

REF = "#/components/schemas/{model}"
SCHEMES = {
    "apiKey": {"type": "http", "scheme": "bearer", "description": "a workspace API key (chk_...)"},
    "signIn": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "a Cognito ID or access token of the deployment's user pool",
    },
    "workspace": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Chorus-Workspace",
        "description": "the workspace a signed-in person acts in (GET /me lists theirs)",
    },
}
WORKSPACE_SECURITY = [{"apiKey": []}, {"signIn": [], "workspace": []}]
PERSON_SECURITY = [{"signIn": []}]
MAX_DEPTH = 3  # how far a query mapping is followed through helper calls


class FieldProblem(BaseModel):
    field: str
    message: str
    rule: str


class Problem(BaseModel):
    """An RFC 9457 problem body; ``errors`` names the field(s) at fault."""

    type: str
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    errors: list[FieldProblem] = Field(default_factory=list)


#: Answers whose media type the view picks at run time (a report in the format asked for).
MEDIA_TYPES: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/reports"): ("application/json", "text/csv", "text/html", "application/pdf"),
    ("GET", "/campaigns/{campaign_id}/report"): (
        "application/json",
        "text/csv",
        "text/html",
        "application/pdf",
    ),
    ("GET", "/links/report"): ("application/json", "text/csv", "text/html", "application/pdf"),
}
#: Bodies that are not JSON: the view reads the raw body itself.
RAW_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/posts/import"): {"text/csv": {"schema": {"type": "string"}}},
}


class View:
    """What one view function tells about its route, read from its source."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = inspect.unwrap(func)
        self.globals: dict[str, Any] = getattr(self.func, "__globals__", {})
        self.body_model: type[BaseModel] | None = None
        self.query_model: type[BaseModel] | None = None
        self.query_keys: dict[str, str | None] = {}  # name -> its format (date, date-time) if known
        self.role: str | None = None
        self.statuses: dict[int, Any] = {}
        self.read(self.func, None, 0)

    def read(self, func: Callable[..., Any], param: str | None, depth: int) -> None:
        """Read ``func``; ``param`` is the name of its argument that holds the query mapping, if any."""
        tree = _tree(func)
        if tree is None:
            return
        glb: dict[str, Any] = getattr(func, "__globals__", {})
        mappings = {param} if param else set()
        if param:
            for key in _loop_keys(tree, glb):
                self._key(key)
        for node in ast.walk(tree):  # names bound to query(...) in this function
            if isinstance(node, ast.Assign) and _is_call(node.value, "query"):
                mappings |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            self._keys(node, mappings, glb)
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if name == "body" and len(node.args) == 2:
                self.body_model = _model(node.args[1], glb) or self.body_model
            elif name == "parse" and len(node.args) == 2 and _is_call(node.args[1], "query"):
                self.query_model = _model(node.args[0], glb) or self.query_model
            elif name == "principal" and depth == 0:
                role = node.args[0] if node.args else None
                found = role.attr.lower() if isinstance(role, ast.Attribute) else "viewer"
                self.role = found if self.role in (None, "viewer") else self.role
            elif name == "ok" and depth == 0:
                self._answer(node)
            elif name == "Response" and depth == 0:
                for kw in node.keywords:
                    if kw.arg == "status_code" and isinstance(kw.value, ast.Constant):
                        self.statuses.setdefault(int(kw.value.value), None)
            if depth < MAX_DEPTH:
                self._follow(node, mappings, glb, depth)

    def _key(self, name: str, fmt: str | None = None) -> None:
        self.query_keys[name] = fmt or self.query_keys.get(name)

    def _keys(self, node: ast.AST, mappings: set[str], glb: dict[str, Any]) -> None:
        def is_mapping(value: ast.AST) -> bool:
            return (isinstance(value, ast.Name) and value.id in mappings) or _is_call(value, "query")

        def read_keys(value: ast.AST) -> list[str]:  # the keys ``value`` reads from the mapping
            if isinstance(value, ast.Subscript) and is_mapping(value.value):
                return _strings(value.slice)
            if _is_call(value, "get") and isinstance(value, ast.Call) and value.args:
                owner = value.func.value if isinstance(value.func, ast.Attribute) else None
                return _strings(value.args[0]) if owner is not None and is_mapping(owner) else []
            return []

        if isinstance(node, ast.Subscript | ast.Call):
            for key in read_keys(node):
                self._key(key)
        if (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], ast.In)
            and is_mapping(node.comparators[0])
        ):
            for key in _strings(node.left):
                self._key(key)
        if not isinstance(node, ast.Call):
            return
        fmt = _format_read_by(_resolve(node.func, glb))
        for arg in node.args[:1]:  # parse_time(params["from"], ...): the key holds a date-time
            for key in read_keys(arg):
                self._key(key, fmt)
        if any(is_mapping(a) for a in node.args):
            for arg in node.args:  # a helper called as helper(params, "to", ...): "to" is a key
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    self._key(arg.value, fmt)

    def _follow(self, node: ast.Call, mappings: set[str], glb: dict[str, Any], depth: int) -> None:
        """Into a helper that is handed the query mapping (or, without arguments, reads it itself)."""
        target = _resolve(node.func, glb)
        if inspect.ismethod(target):  # a classmethod: InboxFilter.from_query(params)
            target = target.__func__
        if target is None or not inspect.isfunction(target):
            return
        if not (target.__module__.startswith(("chorus.", "chalicelib.")) or target.__module__ == "app"):
            return
        try:
            names = list(inspect.signature(target).parameters)
        except (TypeError, ValueError):
            return
        if names and names[0] == "cls":
            names = names[1:]
        for index, arg in enumerate(node.args):
            if ((isinstance(arg, ast.Name) and arg.id in mappings) or _is_call(arg, "query")) and index < len(
                names
            ):
                self.read(target, names[index], depth + 1)
                return
        if not node.args and not node.keywords and target.__module__ == self.func.__module__:
            self.read(target, None, depth + 1)

    def _answer(self, call: ast.Call) -> None:
        status: ast.AST | None = call.args[1] if len(call.args) > 1 else None
        for kw in call.keywords:
            if kw.arg == "status":
                status = kw.value
        codes = [200] if status is None else [int(v) for v in _constants(status) if isinstance(v, int)]
        schema: dict[str, Any] = {"type": "object"}
        data = call.args[0] if call.args else None
        if isinstance(data, ast.Dict) and all(isinstance(k, ast.Constant) for k in data.keys):
            names = [str(k.value) for k in data.keys if isinstance(k, ast.Constant)]
            schema["properties"] = {
                n: ({"type": ["string", "null"]} if n == "next_cursor" else {}) for n in names
            }
            schema["required"] = names
        for code in codes:
            if code < 400:
                self.statuses[code] = schema if code not in self.statuses else {"type": "object"}


def _tree(func: Callable[..., Any]) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return None


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_call(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and _name(node.func) == name


def _resolve(node: ast.AST, glb: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return glb.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.value, glb)
        return getattr(owner, node.attr, None) if owner is not None else None
    return None


def _model(node: ast.AST, glb: dict[str, Any]) -> type[BaseModel] | None:
    found = _resolve(node, glb)
    return found if isinstance(found, type) and issubclass(found, BaseModel) else None


def _constants(node: ast.AST) -> Iterator[Any]:
    if isinstance(node, ast.Constant):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _constants(node.body)
        yield from _constants(node.orelse)


def _strings(node: ast.AST) -> list[str]:
    """The literal keys ``node`` stands for (a constant, or either side of ``a if c else b``); a name
    bound by a loop is read by ``_loop_keys``."""
    return [str(v) for v in _constants(node) if isinstance(v, str)]


def _format_read_by(func: Any) -> str | None:
    """``date-time`` or ``date`` when ``func`` parses the text it is given as one (read from its
    source: ``parse_time``/``datetime.fromisoformat``, or ``date.fromisoformat``), else None."""
    if not inspect.isfunction(func):
        return None
    tree = _tree(func)
    calls = {
        ast.unparse(n.func)
        for n in (ast.walk(tree) if tree else ())
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name | ast.Attribute)
    }
    if func.__name__ == "parse_time" or "datetime.fromisoformat" in calls or "parse_time" in calls:
        return "date-time"
    if "date.fromisoformat" in calls:
        return "date"
    return None


def _loop_keys(tree: ast.AST, glb: dict[str, Any]) -> list[str]:
    """Keys read as ``params.get(name) for name in NAMES`` (NAMES a module tuple of strings)."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension | ast.For) and isinstance(node.iter, ast.Name):
            values = glb.get(node.iter.id)
            if isinstance(values, tuple | list | frozenset) and all(isinstance(v, str) for v in values):
                found += list(values)
    return found


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in re.findall(r"{([^}+]+)\+?}", path)
    ]


def _operation_id(method: str, path: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", path.replace("{", "by_").replace("}", ""))
    return method.lower() + "".join(w[:1].upper() + w[1:] for w in words)


def _problem_answer() -> dict[str, Any]:
    return {
        "description": "refused: a problem body naming the field",
        "content": {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}},
    }


def _query_parameters(view: View) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    seen: set[str] = set()
    if view.query_model is not None:
        schema = view.query_model.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
            seen.add(name)
    for name, fmt in view.query_keys.items():
        if name not in seen:
            schema = {"type": "string", **({"format": fmt} if fmt else {})}
            params.append({"name": name, "in": "query", "required": False, "schema": schema})
    return params


@functools.cache
def _views(routes: tuple[tuple[str, str, Callable[..., Any]], ...]) -> list[tuple[str, str, View]]:
    return [(path, method, View(func)) for path, method, func in routes]


def document(app: Any, title: str = "Chorus", version: str = "1") -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app`` (a Chalice app): every route, its models and its security."""
    routes = tuple(
        (path, method, entry.view_function)
        for path, methods in sorted(app.routes.items())
        for method, entry in sorted(methods.items())
    )
    views = _views(routes)
    models: list[type[BaseModel]] = [Problem]
    for _, _, view in views:
        models += [m for m in (view.body_model,) if m is not None and m not in models]
    keyed, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    refs = {model: keyed[(model, "validation")]["$ref"] for model in models}
    paths: dict[str, dict[str, Any]] = {}
    for path, method, view in views:
        public = path.startswith(PUBLIC_PREFIXES)
        operation: dict[str, Any] = {
            "operationId": _operation_id(method, path),
            "summary": (inspect.getdoc(view.func) or view.func.__name__.replace("_", " ")).split("\n")[0],
            "tags": [path.strip("/").split("/")[0] or "chorus"],
            "parameters": _path_parameters(path) + _query_parameters(view),
            "security": []
            if public
            else PERSON_SECURITY
            if (method, path) in USER_ROUTES
            else WORKSPACE_SECURITY,
            "responses": {},
        }
        if view.role and not public and (method, path) not in USER_ROUTES:
            operation["x-chorus-role"] = view.role
        if view.body_model is not None:
            operation["requestBody"] = {
                "required": False,
                "content": {"application/json": {"schema": {"$ref": refs[view.body_model]}}},
            }
        elif (method, path) in RAW_BODIES:
            operation["requestBody"] = {"required": True, "content": RAW_BODIES[(method, path)]}
        statuses = view.statuses or {200: {"type": "object"}}
        for code, schema in sorted(statuses.items()):
            answer: dict[str, Any] = {"description": "done" if code < 300 else "redirect"}
            if code not in (204, 302):  # JSON as the view answers it; any other media type as it comes
                media = MEDIA_TYPES.get((method, path), ("application/json",))
                answer["content"] = {m: {"schema": {}} for m in media}
                answer["content"]["application/json"] = {"schema": schema or {"type": "object"}}
            operation["responses"][str(code)] = answer
        operation["responses"]["4XX"] = _problem_answer()
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Chorus HTTP API. Every refusal is an RFC 9457 problem body naming the field.",
        },
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": SCHEMES},
        "security": WORKSPACE_SECURITY,
    }
