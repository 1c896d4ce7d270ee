"""DataComponentContract: what a plugin's data component tests subclass.

    class TestTextBlocks(DataComponentContract):
        component_name = "text_blocks"
        configs = [{"block_size": 8}]

        @pytest.fixture
        def value(self): return [{"text": "..."}]

        @pytest.fixture
        def context(self, ...): return DataContext(model=..., base_dir=tmp_path, name="eval")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from olive_core.evaluation.data import DataComponent, DataContext
from olive_core.testing.contracts.checks import check_config, heavy_modules_after_import


class DataComponentContract:
    """Subclass with ``component_name``, a ``value`` (its input) and a ``context`` fixture."""

    component_name: ClassVar[str] = ""
    configs: ClassVar[list[dict[str, Any]]] = [{}]

    @pytest.fixture
    def value(self) -> Any:
        return None  # a loader takes nothing

    @pytest.fixture
    def context(self, tmp_path: Path) -> DataContext:
        return DataContext(base_dir=tmp_path, name="contract")

    @pytest.fixture
    def component_class(self, olive_plugin_manager: Any) -> type[DataComponent]:
        return olive_plugin_manager.registry.load("data_component", self.component_name)

    def test_declares_its_role(self, component_class: type[DataComponent]) -> None:
        assert issubclass(component_class, DataComponent)
        assert component_class.role in ("load", "preprocess", "postprocess")

    def test_config_is_strict_documented_and_bounded(self, component_class: type[DataComponent]) -> None:
        check_config(component_class.Config)

    def test_import_loads_no_heavy_framework(self, component_class: type[DataComponent]) -> None:
        loaded = heavy_modules_after_import(component_class.__module__)
        assert not loaded, f"importing {component_class.__module__} loads {loaded}; import it inside __call__"

    def test_produces_samples_and_names_the_files_it_reads(
        self, component_class: type[DataComponent], value: Any, context: DataContext
    ) -> None:
        for raw in self.configs:
            config = component_class.Config(**raw)
            result = component_class()(value, config, context)
            if component_class.role in ("load", "preprocess"):
                assert isinstance(result, list) and result and all(isinstance(s, dict) for s in result)
            files = component_class().source_files(config, context)
            assert isinstance(files, list) and all(isinstance(f, Path) for f in files)
