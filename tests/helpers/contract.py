"""Symfonia WebAPI's own models (SymfWebAPI, generated from the whole API) as the contract for what our
client sends and what the simulator answers.

The generated models list every field as present (the .NET service serialises them all); our requests
leave out what the sync does not set, and the simulator answers the fields the demo company has. So a
body is checked field by field: every field it carries must exist in the model (no invented names) and
hold a value of the model's type (nested models alike); a missing field is not a fault here.
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

import pydantic
from pydantic import BaseModel


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation names (Optional[X], List[X], X)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def unknown_fields(model: type[BaseModel], data: Any, where: str = "") -> list[str]:
    """Keys of `data` (and of its nested objects) that their model does not have, each with that model."""
    if not isinstance(data, dict):
        return []
    model.model_rebuild()
    out = []
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            out.append(f"{where}{key}: not a field of {model.__name__}")
            continue
        for sub in _models_in(field.annotation):
            items = value if isinstance(value, list) else [value]
            for n, item in enumerate(items):
                suffix = f"[{n}]" if isinstance(value, list) else ""
                out += unknown_fields(sub, item, f"{where}{key}{suffix}.")
    return out


def problems(shape: Any, data: Any) -> list[str]:
    """What in `data` does not fit `shape` (a model, or list[model]): unknown fields and wrong types."""
    out: list[str] = []
    try:
        pydantic.TypeAdapter(shape).validate_python(data)
    except pydantic.ValidationError as exc:
        out += [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})"
                for e in exc.errors() if e["type"] != "missing"]
    for n, item in enumerate(data if isinstance(data, list) else [data]):
        for model in _models_in(shape):
            out += unknown_fields(model, item, f"[{n}]." if isinstance(data, list) else "")
    return out + enum_problems(shape, data)


def _unwrap(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def enum_problems(shape: Any, data: Any, where: str = "") -> list[str]:
    """Enum values that their enum does not declare. SymfWebAPI's enums are forward compatible (they take
    any integer), so a model validates with PriceKind 7; the real API has no such value."""
    shape = _unwrap(shape)
    if typing.get_origin(shape) in (list, tuple) and isinstance(data, list):
        (item,) = typing.get_args(shape) or (Any,)
        return [p for n, x in enumerate(data) for p in enum_problems(item, x, f"{where}[{n}].")]
    if isinstance(shape, type) and issubclass(shape, enum.Enum):
        declared = {m.value for m in shape.__members__.values()}
        return [] if data is None or data in declared else \
            [f"{where.rstrip('.')}: {data!r} is not a value of {shape.__name__} ({sorted(declared)})"]
    if isinstance(shape, type) and issubclass(shape, BaseModel) and isinstance(data, dict):
        shape.model_rebuild()
        return [p for key, value in data.items() if key in shape.model_fields
                for p in enum_problems(shape.model_fields[key].annotation, value, f"{where}{key}.")]
    return []


def whole_model_problems(shape: Any, data: Any) -> list[str]:
    """What in `data` does not fit `shape` as the real API writes it: every declared field present, of its
    type; no field the model lacks; enum values declared."""
    out: list[str] = []
    try:
        pydantic.TypeAdapter(shape).validate_python(data)
    except pydantic.ValidationError as exc:
        out += [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    for n, item in enumerate(data if isinstance(data, list) else [data]):
        for model in _models_in(shape):
            out += unknown_fields(model, item, f"[{n}]." if isinstance(data, list) else "")
    return out + enum_problems(shape, data)
