"""Symfonia WebAPI's operations as its own library defines them: one table, read from SymfWebAPI.

SymfWebAPI is generated from the real API (ASP.NET Web API). For each controller it ships
`_ops.py` (method, path and the answer's TypeAdapter per operation), `_common.py` (a
`_prepare_<Operation>` that puts the query parameters into `params`: those set without a
condition are REQUIRED, those set under `if x is not None` optional; the one passed to
`serialize_request_body` is the body) and `__init__.py` (the typed overloads naming the body's
model). This module reads those files with `ast` (nothing is executed but the model imports),
so the simulator routes as the real service does and the contract test holds our client to
the same table.

Routing as ASP.NET Web API chooses an action: same method, the path matching the template
(`{id:int}` segments), every required query parameter present (names bind case-insensitively).
Stricter than ASP.NET, on purpose: a query parameter that no candidate action takes also finds
no action here (ASP.NET would ignore it), so our client never sends what the API would drop.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import decimal
import enum
import functools
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import SymfWebAPI
from pydantic import BaseModel


@dataclass(frozen=True)
class Operation:
    """One call of the API."""

    area: str  # e.g. "Orders"
    controller: str  # e.g. "IOrdersIssueController"
    name: str  # e.g. "AddNew"
    method: str
    path: str  # "/api/OrdersIssue/New" or a template "/api/v2026.2/Sales/Status/Refresh/{id:int}"
    required: frozenset[str]  # query parameters, lower case
    optional: frozenset[str]
    body: Any  # the body's pydantic model (or List[...]); None: no body
    answer: Any  # the answer's pydantic TypeAdapter; None: no answer declared
    spelling: tuple[str, ...] = ()  # the query parameters as the library spells them ("orderId")

    def canonical(self, query: dict[str, str]) -> dict[str, str]:
        """The query with its names spelled as the library does (ASP.NET binds them case-insensitively)."""
        names = {n.lower(): n for n in self.spelling}
        return {names.get(k.lower(), k): v for k, v in query.items()}

    @property
    def pattern(self) -> re.Pattern[str]:
        return _template(self.path)

    def takes(self, query: set[str]) -> bool:
        """Whether this action binds a request carrying these query parameters (lower case)."""
        return self.required <= query <= (self.required | self.optional)

    def describe(self) -> str:
        req = ", ".join(sorted(self.required)) or "none"
        return f"{self.method} {self.path} ({self.controller}.{self.name}; required: {req})"


@functools.cache
def _template(path: str) -> re.Pattern[str]:
    parts = []
    for seg in path.strip("/").split("/"):
        if seg.startswith("{") and seg.endswith("}"):
            kind = seg[1:-1].partition(":")[2]
            parts.append(r"-?\d+" if kind in ("int", "long") else r"[^/]+")
        else:
            parts.append(re.escape(seg))
    return re.compile("^/" + "/".join(parts) + "$", re.IGNORECASE)


def _query_params(fn: ast.FunctionDef) -> tuple[set[str], set[str], str | None]:
    """(required, optional, body argument) of a `_prepare_X`."""
    required: set[str] = set()
    optional: set[str] = set()
    body = None

    def visit(stmts: list[ast.stmt], conditional: bool) -> None:
        nonlocal body
        for st in stmts:
            if isinstance(st, ast.If):
                visit(st.body, True)
                visit(st.orelse, True)
            elif isinstance(st, ast.Assign):
                target = st.targets[0]
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and \
                        target.value.id == "params" and isinstance(target.slice, ast.Constant):
                    (optional if conditional else required).add(str(target.slice.value))
                elif isinstance(target, ast.Name) and target.id == "data":
                    for node in ast.walk(st.value):
                        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "serialize_request_body":
                            first = node.args[0] if node.args else None
                            body = first.id if isinstance(first, ast.Name) else None

    visit(fn.body, False)
    return required, optional, body


def _annotation(node: ast.expr | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ast.unparse(node)


def _body_models(init: ast.Module) -> dict[frozenset[str], dict[str, str]]:
    """The typed overloads: {their argument names: {argument: annotation}}."""
    out: dict[frozenset[str], dict[str, str]] = {}
    for fn in init.body:
        if not isinstance(fn, ast.FunctionDef) or not fn.args.args:
            continue
        first = _annotation(fn.args.args[0].annotation) or ""
        if first == "object":
            continue
        args = {a.arg: _annotation(a.annotation) or "" for a in fn.args.args[1:] + fn.args.kwonlyargs
                if a.arg != "validate"}
        out[frozenset(args)] = args
    return out


def _resolve(annotation: str, namespace: dict[str, Any]) -> Any:
    try:
        return eval(annotation, dict(namespace))  # noqa: S307 - the library's own annotations
    except Exception:  # noqa: BLE001 - an annotation we cannot resolve: no body model
        return None


def _specs(ops_file: Path) -> tuple[dict[str, tuple[str, str]], dict[str, Any]]:
    """An `_ops.py` read statement by statement: {name: (method, path)} of its `OP_<name> =
    build_..._operation(method=..., path=...)`, and a namespace with its model imports and `_ADAPTER_<name>`s.

    Statement by statement because 2.0.26.20 has areas that do not import whole (Dictionaries names enums
    it lacks; Orders names an undefined DocumentExternalMetadataModel): what fails is left out, the rest
    stands."""
    out: dict[str, tuple[str, str]] = {}
    namespace: dict[str, Any] = {}
    for st in ast.parse(ops_file.read_text(encoding="utf-8")).body:
        if isinstance(st, (ast.Import, ast.ImportFrom)) or (
                isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name)
                and st.targets[0].id.startswith("_ADAPTER_")):
            try:
                exec(compile(ast.Module(body=[st], type_ignores=[]), str(ops_file), "exec"), namespace)  # noqa: S102
            except Exception:  # noqa: BLE001 - see the docstring
                continue
        elif isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name) and isinstance(st.value, ast.Call):
            name = st.targets[0].id
            if name.startswith("OP_") and not name.endswith("_RAW"):
                kw = {k.arg: k.value.value for k in st.value.keywords if isinstance(k.value, ast.Constant)}
                out[name[3:]] = (str(kw["method"]).upper(), str(kw["path"]))
    return out, namespace


@functools.cache
def operations() -> tuple[Operation, ...]:
    """Every operation of the installed SymfWebAPI."""
    root = Path(SymfWebAPI.__file__).parent / "WebAPI" / "Interface"
    out: list[Operation] = []
    for ops_file in sorted(root.rglob("_ops.py")):
        folder = ops_file.parent
        area, controller = "/".join(folder.parent.parent.relative_to(root).parts) or "Common", folder.name
        specs, namespace = _specs(ops_file)
        common = ast.parse((folder / "_common.py").read_text(encoding="utf-8"))
        prepares = {fn.name[len("_prepare_"):]: fn for fn in common.body
                    if isinstance(fn, ast.FunctionDef) and fn.name.startswith("_prepare_")}
        overloads = _body_models(ast.parse((folder / "__init__.py").read_text(encoding="utf-8")))
        for name, fn in prepares.items():
            if name not in specs:
                continue
            required, optional, body_arg = _query_params(fn)
            body = None
            if body_arg:
                names = frozenset(a.arg for a in fn.args.args + fn.args.kwonlyargs if a.arg != "validate")
                annotation = overloads.get(names, {}).get(body_arg)
                body = _resolve(annotation, namespace) if annotation and namespace else None
            method, path = specs[name]
            # route values, not the query's; a cancellation token is the .NET action's, never the request's
            in_path = {m.lower() for m in re.findall(r"\{(\w+)", path)} | {"cancellationtoken"}
            spelling = tuple(sorted((required | optional) - {n for n in required | optional if n.lower() in in_path}))
            required = {n.lower() for n in required} - in_path
            optional = {n.lower() for n in optional} - in_path
            out.append(Operation(area, controller, name, method, path, frozenset(required), frozenset(optional),
                                 body, namespace.get(f"_ADAPTER_{name}"), spelling))
    return tuple(out)


@functools.cache
def _by_method() -> dict[str, tuple[Operation, ...]]:
    table: dict[str, list[Operation]] = {}
    for op in operations():
        table.setdefault(op.method, []).append(op)
    return {m: tuple(v) for m, v in table.items()}


def candidates(method: str, path: str) -> list[Operation]:
    """The operations whose method and path template fit (the query not yet considered)."""
    return [op for op in _by_method().get(method.upper(), ()) if op.pattern.match(path)]


def select(method: str, path: str, query: Any) -> Operation | None:
    """The action ASP.NET Web API would run for this request (None: no action, a 404), as the module
    docstring says: every required parameter present, none that the action does not take; of several,
    the one binding the most parameters."""
    keys = {str(k).lower() for k in query}
    fitting = [op for op in candidates(method, path) if op.takes(keys)]
    if not fitting:
        return None
    # Of routes the library defines twice (IContractorsController and IContractorCardIndexController both
    # on /api/Contractors), the one whose answer the library types.
    return max(fitting, key=lambda op: (len(op.required), op.answer is not None, -len(op.optional)))


def complete(data: Any, annotation: Any) -> Any:
    """`data` with every field its model declares: the real API (JSON.NET) writes them all, the ones it has no
    value for as their type's empty value (null, "", 0, false, [], an empty object). Fields present are kept."""
    kind, inner = _shape(annotation)
    if kind == "list" and isinstance(data, list) and inner is not None:
        return [complete(x, inner) for x in data]
    if kind == "model" and isinstance(data, dict):
        out = dict(data)
        for name, field in inner:
            if name not in out:
                out[name] = copy.deepcopy(_empty_of(field))
            elif isinstance(out[name], (dict, list)):
                out[name] = complete(out[name], field)
        return out
    return data


@functools.cache
def _shape(annotation: Any) -> tuple[str, Any]:
    """What an annotation is, worked out once: ("list", item), ("model", ((field, annotation), ...)), ("leaf", None)."""
    annotation = _unwrap(annotation)
    if typing.get_origin(annotation) in (list, tuple, set):
        args = typing.get_args(annotation)
        return "list", (args[0] if args else None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        annotation.model_rebuild()
        return "model", tuple((name, f.annotation) for name, f in annotation.model_fields.items())
    return "leaf", None


@functools.cache
def _empty_of(annotation: Any) -> Any:
    return _empty(annotation)


def _unwrap(annotation: Any) -> Any:
    """Optional[X] -> X; anything else as it is."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _empty(annotation: Any) -> Any:
    """What JSON.NET writes for a property with no value: null for a nullable or a reference (written here
    as the type's empty value where the model does not allow null, as the library reads it)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation):
        return None
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set):
        return []
    if origin is dict:
        return {}
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return complete({}, annotation)
        if issubclass(annotation, enum.Enum):
            values = [m.value for m in annotation]
            return 0 if 0 in values else values[0]
        if issubclass(annotation, bool):
            return False
        if issubclass(annotation, (int, float, decimal.Decimal)):
            return 0
        if issubclass(annotation, str):
            return ""
        if issubclass(annotation, (dt.datetime, dt.date)):
            return "0001-01-01T00:00:00"
    return None


def answer_type(operation: Operation) -> Any:
    """The answer's declared type (the library's TypeAdapter wraps it), or None."""
    return getattr(operation.answer, "_type", None) if operation.answer is not None else None
