"""The workflow file's JSON Schema, assembled from core's shape and each installed component.

Each ``{"type": X, "config": {...}}`` place gets an ``if type == X then config matches X.Config``
rule per installed component, so editors complete and check component options too. A pass step
whose ``type`` lists several passes shares its config among them: only its pass names are checked.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from olive_core.config.workflow import WorkflowConfig
from olive_core.registry import Registry

#: workflow definition name -> component kind whose configs fill its "config"
_COMPONENT_PLACES = {
    "InputModelConfig": "model_type",
    "PassStepConfig": "pass",
    "MetricConfig": "metric",
    "CacheConfig": "cache_backend",
    "ComponentConfig": "data_component",
}


def _component_schema(kind: str, name: str, config: type[BaseModel], defs: dict[str, Any]) -> dict[str, Any]:
    prefix = f"{kind}.{name}."
    schema = config.model_json_schema(ref_template="#/$defs/" + prefix + "{model}")
    for def_name, definition in schema.pop("$defs", {}).items():
        defs[prefix + def_name] = definition
    return schema


def workflow_schema(registry: Registry) -> dict[str, Any]:
    schema = WorkflowConfig.model_json_schema()
    defs = schema.setdefault("$defs", {})
    for place, kind in _COMPONENT_PLACES.items():
        definition = defs.get(place)
        if definition is None:
            continue
        names = registry.names(kind)
        if place == "PassStepConfig":  # one pass, or several the step chooses among
            definition["properties"]["type"]["anyOf"] = [
                {"type": "string", "enum": names},
                {"type": "array", "items": {"type": "string", "enum": names}, "minItems": 1, "uniqueItems": True},
            ]
        else:
            definition["properties"]["type"]["enum"] = names
        rules = []
        for component in registry.components(kind):
            try:
                cls = component.load()
            except Exception:  # a broken plugin must not break the schema of the others
                continue
            config_schema = _component_schema(kind, component.name, cls.Config, defs)
            config_property: dict[str, Any] = config_schema
            if place == "PassStepConfig":
                config_property = {"anyOf": [config_schema, {"type": "array", "items": config_schema}]}
            rules.append(
                {
                    "if": {"properties": {"type": {"const": component.name}}, "required": ["type"]},
                    "then": {"properties": {"config": config_property}},
                }
            )
        if rules:
            definition["allOf"] = rules
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "olive-core workflow"
    return schema
