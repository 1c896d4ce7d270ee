"""DiffusionComponentPass: run any ONNX-to-ONNX pass on each component of an ONNX pipeline.

The wrapped pass sees a plain `onnx` model per component (the component's .onnx file and io
config) and writes into that component's folder, so olive-onnx's passes need nothing special.
Every component the pass changes gets its own lineage entry in ``pipeline.json``; the step's
report holds each component's report.
"""

from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationError, model_validator

from olive_core.errors import IncompatibleModelError, OliveError, PassError
from olive_core.models.handler import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext

from olive_diffusion.components import COMPONENTS, SUPPORT_FOLDERS, ComponentName
from olive_diffusion.passes.common import copy_tree

if TYPE_CHECKING:
    from olive_core.accelerators import AcceleratorSpec
    from olive_core.registry import Registry

    from olive_diffusion.manifest import ComponentEntry

PASS_NAME = "DiffusionComponentPass"

#: what a known pass needs per component unless the workflow says otherwise
COMPONENT_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "OnnxTransformersOptimization": {
        "text_encoder": {"model_type": "clip"},
        "unet": {"model_type": "unet"},
        "vae_encoder": {"model_type": "vae"},
        "vae_decoder": {"model_type": "vae"},
    },
}


@lru_cache(maxsize=1)
def _registry() -> Registry:
    """The installed plugins' components, discovered once per process (configs are validated often)."""
    from olive_core.plugins import create_plugin_manager

    return create_plugin_manager().registry


def onnx_pass_class(name: str) -> type[Pass]:
    """The registered pass ``name``, which must turn an `onnx` model into an `onnx` model."""
    registry = _registry()
    component = registry.find("pass", name)
    if component is None:
        hint = registry.unknown_hint("pass", name)
        raise ValueError(registry.unknown_message("pass", name) + (f" ({hint})" if hint else ""))
    pass_class = component.load()
    if "onnx" not in pass_class.input_types or pass_class.output_type != "onnx":
        raise ValueError(
            f"'{name}' takes {' or '.join(pass_class.input_types) or 'any'} models "
            f"and makes {pass_class.output_type or '?'} models; "
            "a component pass must take and make 'onnx' models"
        )
    return pass_class


class DiffusionComponentPassConfig(PassConfig):
    pass_type: str = Field(
        description="a registered ONNX-to-ONNX pass, e.g. 'OnnxTransformersOptimization' or 'OnnxFloat16'"
    )
    config: dict[str, Any] = Field(default_factory=dict, description="that pass's config, for every component")
    components: list[ComponentName] | None = Field(
        default=None, description="the components to run it on; default: every component of the pipeline"
    )
    component_config: dict[ComponentName, dict[str, Any]] = Field(
        default_factory=dict,
        description="per component, options merged over 'config' (which is merged over the defaults for known passes: "
        "OnnxTransformersOptimization gets model_type clip, unet or vae)",
    )
    verify: bool = Field(
        default=True,
        description="load each new component on the accelerator and run it once on example inputs, so a component "
        "that cannot run there (an op without a kernel on this execution provider) fails here, not in evaluation",
    )
    on_failure: Literal["fail", "keep_input"] = Field(
        default="fail",
        description="'keep_input' keeps a component's input model when the pass fails on it or its output does not "
        "run; the report and a warning say why",
    )

    @model_validator(mode="after")
    def _inner_configs_valid(self) -> DiffusionComponentPassConfig:
        pass_class = onnx_pass_class(self.pass_type)
        for component in self.components or COMPONENTS:
            try:
                pass_class.Config.model_validate(self.effective_config(component))
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
                raise ValueError(f"{self.pass_type} config for the {component}: {problems}") from None
        return self

    def effective_config(self, component: str) -> dict[str, Any]:
        defaults = COMPONENT_DEFAULTS.get(self.pass_type, {}).get(component, {})
        return {**defaults, **self.config, **self.component_config.get(component, {})}  # type: ignore[call-overload]


class DiffusionComponentPass(Pass):
    """Run an ONNX pass (fusion, FP16, quantization, ...) on each component of an `onnx_diffusion` pipeline.

    Components not named are kept as they are. With ``verify`` each new component must load and
    run on the accelerator; with ``on_failure: keep_input`` a component the pass cannot improve
    there keeps its input model, so a pipeline keeps what runs.
    """

    Config = DiffusionComponentPassConfig
    version = "1"
    input_types = ("onnx_diffusion",)
    output_type = "onnx_diffusion"

    def check_input(self, model: ModelHandler, config: DiffusionComponentPassConfig, context: PassContext) -> None:
        from olive_diffusion.manifest import read_manifest

        super().check_input(model, config, context)
        present = read_manifest(Path(model.path)).components
        missing = [name for name in config.components or () if name not in present]
        if missing:
            raise IncompatibleModelError(
                f"{PASS_NAME}: the pipeline has no {', '.join(missing)} (it has {', '.join(present)})",
                hint="name only exported components, or export them with DiffusionOnnxConversion",
            )

    def run(
        self, model: ModelHandler, config: DiffusionComponentPassConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        from olive_diffusion.manifest import read_manifest, write_manifest

        folder = Path(model.path)
        manifest = read_manifest(folder)
        pass_class = onnx_pass_class(config.pass_type)
        targets = set(config.components or manifest.components)
        entries, reports = {}, {}
        for name, entry in manifest.components.items():
            if name in targets:
                entries[name], reports[name] = self._component(
                    pass_class, config, name, entry, folder, output_dir, context
                )
            else:
                copy_tree(folder / Path(entry.path).parent, output_dir / Path(entry.path).parent)
                entries[name] = entry
        for support in SUPPORT_FOLDERS:
            copy_tree(folder / support, output_dir / support)
        write_manifest(output_dir, manifest.model_copy(update={"components": entries}))
        context.report["components"] = reports
        return model.derive(path=str(output_dir))

    def _component(
        self,
        pass_class: type[Pass],
        config: DiffusionComponentPassConfig,
        name: str,
        entry: ComponentEntry,
        folder: Path,
        output_dir: Path,
        context: PassContext,
    ) -> tuple[ComponentEntry, dict[str, Any]]:
        """Run the pass on one component: its new manifest entry and its report."""
        from olive_diffusion.manifest import LineageEntry, component_id

        sub_folder = Path(entry.path).parent
        settings = pass_class.Config.model_validate(config.effective_config(name))
        sub_context = PassContext(
            accelerator=context.accelerator, step=f"{context.step}.{name}", data=context.data, logger=context.logger
        )
        (output_dir / sub_folder).mkdir(parents=True)
        try:
            result = self._run_one(
                pass_class, entry.handle(folder), settings, output_dir / sub_folder, sub_context, config.verify
            )
        except Exception as exc:
            if config.on_failure == "fail":
                if isinstance(exc, OliveError):
                    raise PassError(
                        PASS_NAME, f"{config.pass_type} on the {name}: {exc.message}", hint=exc.hint
                    ) from exc
                raise
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            context.warn(f"{name}: kept its input model, because {config.pass_type} {reason}")
            shutil.rmtree(output_dir / sub_folder)
            copy_tree(folder / sub_folder, output_dir / sub_folder)
            return entry, {"kept_input": reason}
        for warning in sub_context.warnings:
            context.warn(f"{name}: {warning}")
        effective = settings.model_dump(mode="json")
        lineage = LineageEntry(
            step=context.step,
            pass_type=config.pass_type,
            config=effective,
            id=component_id(entry.id, config.pass_type, pass_class.version, effective, context.accelerator.key()),
            parent=entry.id,
            report=dict(sub_context.report),
        )
        relative = Path(result.path).resolve().relative_to(output_dir.resolve()).as_posix()
        return entry.derived(lineage, relative, result.io_config or entry.io_config, result.attributes), dict(
            sub_context.report
        )

    @staticmethod
    def _run_one(
        pass_class: type[Pass],
        handle: ModelHandler,
        settings: PassConfig,
        output_dir: Path,
        context: PassContext,
        verify: bool,
    ) -> ModelHandler:
        inner = pass_class()
        inner.check_input(handle, settings, context)
        result = inner.run(handle, settings, output_dir, context)
        if not Path(result.path).resolve().is_relative_to(output_dir.resolve()):
            if Path(result.path).resolve() != Path(handle.path).resolve():
                raise PassError(
                    PASS_NAME, f"{pass_class.__name__} wrote its model outside the component's folder ({result.path})"
                )
            # A pass that only learns attributes (OnnxSessionTuning) keeps the file: the pipeline gets a copy
            copy_tree(Path(handle.path).parent, output_dir)
            result = result.model_copy(update={"path": str(output_dir / Path(handle.path).name)})
        if verify:
            run_once(result, context.accelerator)
        return result


def run_once(handle: ModelHandler, accelerator: AcceleratorSpec) -> None:
    """Load a component on the accelerator and run it on seeded example inputs from its io config."""
    import numpy as np

    from olive_onnx.api import create_session

    io = handle.io_config
    session = create_session(handle, accelerator, {})
    rng = np.random.default_rng(0)
    feed = {}
    for name in session.input_names:
        position = io.input_names.index(name) if io and name in io.input_names else None
        shape = io.input_shapes[position] if io and io.input_shapes and position is not None else None
        dtype = io.input_types[position] if io and io.input_types and position is not None else "float32"
        if shape is None:
            raise PassError(
                PASS_NAME, f"cannot verify '{handle.path}': its io config gives no shape for input '{name}'"
            )
        value = rng.standard_normal(shape) if np.dtype(dtype).kind == "f" else np.zeros(shape)
        feed[name] = value.astype(dtype)
    session.run(feed)
