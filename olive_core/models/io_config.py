"""The inputs and outputs of a model, as a workflow can write them or a plugin derive them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class IoConfig(BaseModel):
    """Input/output names, shapes, dtypes and dynamic axes of a model."""

    model_config = ConfigDict(extra="forbid")

    input_names: list[str] = Field(description="names of the model inputs, in call order")
    input_shapes: list[list[int]] | None = Field(
        default=None, description="one example shape per input, used for dummy inputs"
    )
    input_types: list[str] | None = Field(
        default=None, description="numpy dtype name per input, e.g. 'int64' or 'float32'"
    )
    output_names: list[str] = Field(default_factory=list, description="names of the model outputs")
    dynamic_axes: dict[str, dict[int, str]] | None = Field(
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
        return self
