"""Built-in pre-processing: cast fields to the dtypes a model takes.

JSON and CSV numbers load as float64 and int64, while most models take float32 (and some
int32); runtimes such as ONNX Runtime refuse the wrong dtype rather than convert it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from olive_core.errors import DataError
from olive_core.evaluation.data import DataComponent, DataComponentConfig, DataContext, Role


class CastConfig(DataComponentConfig):
    dtypes: dict[str, str] = Field(description="field -> numpy dtype name, e.g. {'x': 'float32', 'input_ids': 'int64'}")

    @field_validator("dtypes")
    @classmethod
    def _known_dtypes(cls, value: dict[str, str]) -> dict[str, str]:
        import numpy as np

        for field_name, dtype in value.items():
            try:
                np.dtype(dtype)
            except TypeError as exc:
                raise ValueError(f"'{dtype}' (for field '{field_name}') is not a numpy dtype, e.g. 'float32'") from exc
        return value


class Cast(DataComponent):
    """Cast the named fields of every sample to the given numpy dtypes."""

    role: ClassVar[Role] = "preprocess"
    Config = CastConfig
    uses_model: ClassVar[bool] = False

    def __call__(self, value: list[dict[str, Any]], config: CastConfig, context: DataContext) -> list[dict[str, Any]]:
        import numpy as np

        samples = []
        for index, sample in enumerate(value):
            missing = [name for name in config.dtypes if name not in sample]
            if missing:
                raise DataError(
                    f"data '{context.name}': cast names field '{missing[0]}', which sample {index} does not have",
                    hint=f"its fields: {', '.join(sample)}",
                )
            try:
                cast = {name: np.asarray(sample[name]).astype(dtype) for name, dtype in config.dtypes.items()}
            except (TypeError, ValueError) as exc:
                raise DataError(f"data '{context.name}': cannot cast sample {index}: {exc}") from exc
            samples.append({**sample, **cast})
        return samples
