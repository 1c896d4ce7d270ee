"""The inputs and outputs of a model, as a workflow can write them or a plugin derive them."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from olive_core.bounds import STRICT_CONFIG


#: one dimension of an example shape, and one axis index
Dimension = Annotated[int, Field(ge=0, le=2**24)]
Axis = Annotated[int, Field(ge=0, le=63)]
#: elements of one example input: beyond this a dummy input alone would fill the memory
MAX_ELEMENTS = 2**28


class IoConfig(BaseModel):
    """Input/output names, shapes, dtypes and dynamic axes of a model."""

    model_config = STRICT_CONFIG

    input_names: list[str] = Field(description="names of the model inputs, in call order")
    input_shapes: list[list[Dimension]] | None = Field(
        default=None, description="one example shape per input, used for dummy inputs"
    )
    input_types: list[str] | None = Field(
        default=None, description="numpy dtype name per input, e.g. 'int64' or 'float32'"
    )
    output_names: list[str] = Field(default_factory=list, description="names of the model outputs")
    dynamic_axes: dict[str, dict[Axis, str]] | None = Field(
        default=None, description="per input/output name: axis index -> symbolic dimension name"
    )

    @model_validator(mode="after")
    def _lengths_match(self) -> IoConfig:
        for field_name in ("input_shapes", "input_types"):
            values = getattr(self, field_name)
            if values is not None and len(values) != len(self.input_names):
                raise ValueError(
                    f"{field_name} has {len(values)} entries but input_names has {len(self.input_names)}"
                )
        for name, shape in zip(self.input_names, self.input_shapes or []):
            if math.prod(shape) > MAX_ELEMENTS:
                raise ValueError(f"the example shape of '{name}', {shape}, has more than {MAX_ELEMENTS} elements")
        return self
