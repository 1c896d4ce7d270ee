"""Numbers in configs are finite and bounded, so that a typo cannot hang or crash a run.

``max_samples: 1000000000000`` would try to build a trillion samples, ``intra_op_num_threads:
2**40`` overflows ONNX Runtime's C int, and a NaN goal threshold is never met. Every config model
uses :data:`STRICT_CONFIG` (unknown fields are errors, NaN and infinity are refused) and gives
every integer field a lower and an upper bound; :func:`unbounded_numbers` finds the fields that
do not, for the contract tests of core and of plugins.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

import annotated_types
from pydantic import BaseModel, ConfigDict, Field

#: the model_config of every config model: unknown fields and NaN/infinite floats are errors
STRICT_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False)

#: the largest seed numpy's legacy RandomState (used by nevergrad) accepts
MAX_SEED = 2**32 - 1

#: field types with the bounds most configs need
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
#: a position in a model's inputs or outputs, counted from the end when negative
Index = Annotated[int, Field(ge=-4096, le=4095)]
#: an array axis, counted from the end when negative
Axis = Annotated[int, Field(ge=-32, le=31)]
#: a value of a 64-bit integer array
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]

_LOWER = (annotated_types.Ge, annotated_types.Gt)
_UPPER = (annotated_types.Le, annotated_types.Lt)


def unbounded_numbers(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted names of the integer fields (also inside lists, tuples, dicts and nested models)
    without both bounds, and of float fields whose model accepts NaN or infinity."""
    found: list[str] = []
    _check_model(model, prefix, found, set())
    return found


def _check_model(model: type[BaseModel], prefix: str, found: list[str], seen: set[type]) -> None:
    if model in seen:
        return
    seen.add(model)
    finite = model.model_config.get("allow_inf_nan") is False
    for name, field in model.model_fields.items():
        where = f"{prefix}.{name}" if prefix else name
        _check_annotation(field.annotation, list(field.metadata), where, finite, found, seen)


def _check_annotation(
    annotation: Any, metadata: list[Any], where: str, finite: bool, found: list[str], seen: set[type]
) -> None:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        _check_annotation(args[0], [*metadata, *_constraints(args[1:])], where, finite, found, seen)
        return
    if annotation is bool or annotation is type(None):
        return
    if annotation is int:
        if not (any(isinstance(m, _LOWER) for m in metadata) and any(isinstance(m, _UPPER) for m in metadata)):
            found.append(f"{where} (int without both bounds)")
        return
    if annotation is float:
        if not finite:
            found.append(f"{where} (float that may be NaN or infinite)")
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        _check_model(annotation, where, found, seen)
        return
    if origin in (typing.Union, types.UnionType):
        for arg in args:  # a bound written on the field applies to each member of the union
            _check_annotation(arg, metadata, where, finite, found, seen)
        return
    if origin in (list, tuple, set, frozenset, dict):
        values = args[1:] if origin is dict else args
        for arg in values:
            if arg is not Ellipsis:
                _check_annotation(arg, [], f"{where}[]", finite, found, seen)


def _constraints(items: tuple[Any, ...]) -> list[Any]:
    """The annotated-types constraints among ``Annotated`` extras (a FieldInfo carries its own)."""
    result: list[Any] = []
    for item in items:
        result += list(getattr(item, "metadata", [])) if hasattr(item, "metadata") else [item]
    return result


__all__ = ["STRICT_CONFIG", "MAX_SEED", "Seed", "Index", "Axis", "Int64", "unbounded_numbers"]
