"""PassContract: what a plugin's pass tests subclass, so every pass meets the same rules.

    class TestOnnxFloat16(PassContract):
        pass_name = "OnnxFloat16"
        configs = [{}, {"keep_io_types": False}]

        @pytest.fixture
        def input_model(self, tmp_path):
            return make_tiny_onnx_model(tmp_path)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import IncompatibleModelError
from olive_core.models.handler import ModelHandler
from olive_core.passes.base import Pass, PassContext
from olive_core.passes.searchable import search_space
from olive_core.testing.contracts.checks import check_config, heavy_modules_after_import


class PassContract:
    """Subclass with ``pass_name`` and an ``input_model`` fixture; optionally ``configs``."""

    pass_name: ClassVar[str] = ""
    #: configs to run the pass with; each must succeed on the input model
    configs: ClassVar[list[dict[str, Any]]] = [{}]
    #: whether the output model's files are written under the step's output folder
    writes_new_model: ClassVar[bool] = True
    accelerator: ClassVar[AcceleratorSpec] = AcceleratorSpec("cpu", "CPUExecutionProvider")

    @pytest.fixture
    def input_model(self, tmp_path: Path) -> ModelHandler:
        raise NotImplementedError("a PassContract subclass must define an 'input_model' fixture")

    @pytest.fixture
    def pass_class(self, olive_plugin_manager: Any) -> type[Pass]:
        return olive_plugin_manager.registry.load("pass", self.pass_name)

    def make_context(self) -> PassContext:
        """The context the pass runs with; override to provide calibration data."""
        return PassContext(accelerator=self.accelerator, step=self.pass_name)

    # -- declaration -------------------------------------------------------------------------

    def test_is_registered_pass(self, pass_class: type[Pass]) -> None:
        assert issubclass(pass_class, Pass)

    def test_declares_version_and_types(self, pass_class: type[Pass]) -> None:
        assert isinstance(pass_class.version, str) and pass_class.version
        assert pass_class.input_types, "input_types must list the model types the pass accepts"
        assert pass_class.output_type is None or pass_class.output_type, (
            "output_type must name the model type the pass produces (None: the input's type)"
        )
        assert pass_class.description(), "the pass class needs a docstring: `olive passes` shows it"

    def test_config_is_strict_documented_and_bounded(self, pass_class: type[Pass]) -> None:
        """Unknown fields refused, every field described, every number bounded (olive_core.bounds)."""
        check_config(pass_class.Config)

    def test_search_space_is_valid(self, pass_class: type[Pass]) -> None:
        defaults = pass_class.Config(**self.configs[0])  # required fields come from the first config
        for name, dim in search_space(pass_class.Config).items():
            default = getattr(defaults, name)
            if dim.choices is not None and default is not None:
                assert default in dim.choices, f"default of '{name}' is not among its choices"
            if dim.low is not None and default is not None:
                assert dim.low <= default <= dim.high, f"default of '{name}' is outside its range"

    def test_import_loads_no_heavy_framework(self, pass_class: type[Pass]) -> None:
        loaded = heavy_modules_after_import(pass_class.__module__)
        assert not loaded, f"importing {pass_class.__module__} loads {loaded}; import it inside run()"

    # -- behaviour ---------------------------------------------------------------------------

    def test_rejects_a_model_of_another_type(self, pass_class: type[Pass], input_model: ModelHandler) -> None:
        other = input_model.model_copy(update={"type": "__not_a_model_type__"})
        with pytest.raises(IncompatibleModelError):
            pass_class().check_input(other, pass_class.Config(**self.configs[0]), self.make_context())

    def test_runs_and_produces_the_declared_type(
        self, pass_class: type[Pass], input_model: ModelHandler, tmp_path: Path
    ) -> None:
        for index, raw in enumerate(self.configs):
            config = pass_class.Config(**raw)
            output_dir = tmp_path / f"out-{index}"
            output_dir.mkdir()
            the_pass = pass_class()
            context = self.make_context()
            the_pass.check_input(input_model, config, context)
            result = the_pass.run(input_model, config, output_dir, context)
            assert isinstance(result, ModelHandler)
            assert result.type == pass_class.output_type_for(input_model.type)
            assert Path(result.path).exists()
            if self.writes_new_model:
                assert Path(result.path).resolve().is_relative_to(output_dir.resolve()), (
                    "the output model must be written under output_dir, which becomes the cached artifact"
                )
            self.check_output(raw, input_model, result)

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        """Override to assert pass-specific properties of the output (ops present, dtype, ...)."""
