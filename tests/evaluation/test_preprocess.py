"""The built-in cast pre-processor."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from olive_core.errors import DataError
from olive_core.evaluation.data import DataContext
from olive_core.evaluation.preprocess import Cast


def test_cast_fields_to_dtypes() -> None:
    samples = [{"x": [1.5, 2.0], "ids": [1, 2], "label": 1}]
    cast = Cast()(samples, Cast.Config(dtypes={"x": "float32", "ids": "int32"}), DataContext(name="eval"))
    assert cast[0]["x"].dtype == np.float32 and cast[0]["ids"].dtype == np.int32 and cast[0]["label"] == 1


def test_cast_errors_name_the_field_and_dtype() -> None:
    with pytest.raises(ValidationError, match="'floaty' \\(for field 'x'\\) is not a numpy dtype"):
        Cast.Config(dtypes={"x": "floaty"})
    with pytest.raises(DataError, match="cast names field 'x', which sample 0 does not have"):
        Cast()([{"y": 1}], Cast.Config(dtypes={"x": "float32"}), DataContext(name="eval"))
    with pytest.raises(DataError, match="cannot cast sample 0"):
        Cast()([{"x": "text"}], Cast.Config(dtypes={"x": "float32"}), DataContext(name="eval"))
