"""Result models built WITHOUT validation, for defence-in-depth tests of the renderers.

`results.py` refuses hostile result files before anything renders them; the report must
stay inert even for values the schema would refuse (a schema can be loosened one day).
`unchecked(Model, data)` is `Model.model_construct`, applied recursively to nested models.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from podium.results import Evaluation, Monitor, Promotion, Training, Validation

MODELS: dict[str, type[BaseModel]] = {
    "evaluation": Evaluation,
    "training": Training,
    "validation": Validation,
    "promotion": Promotion,
    "monitor": Monitor,
}


def unchecked(model: type[BaseModel], data: Any) -> Any:
    """`data` (a results file's JSON) as `model`, no field checked."""
    if not isinstance(data, dict):
        return data
    values = {}
    for name, field in model.model_fields.items():
        for key in (field.alias, name):
            if key is not None and key in data:
                values[name] = _value(field.annotation, data[key])
                break
    return model.model_construct(**values)


def _value(annotation: Any, raw: Any) -> Any:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _value(args[0], raw)
    if origin in (typing.Union, types.UnionType):
        kinds = [a for a in args if a is not type(None)]
        for kind in kinds:  # a nested model first, where the raw value is an object
            inner = (
                typing.get_args(kind)[0] if typing.get_origin(kind) is typing.Annotated else kind
            )
            if isinstance(inner, type) and issubclass(inner, BaseModel) and isinstance(raw, dict):
                return unchecked(inner, raw)
        return _value(kinds[0], raw) if kinds else raw
    if origin is list and isinstance(raw, list):
        return [_value(args[0], item) for item in raw]
    if origin is dict and isinstance(raw, dict):
        return {key: _value(args[1], item) for key, item in raw.items()}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return unchecked(annotation, raw)
    return raw


def unchecked_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Render keyword arguments with every results dict built unchecked."""
    return {
        key: unchecked(MODELS[key], value) if key in MODELS else value
        for key, value in inputs.items()
    }
