"""DiffusionMergeLoRA: fold a pipeline's LoRA adapters into its UNet and text encoder weights."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from olive_core.errors import IncompatibleModelError, PassError
from olive_core.models.handler import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext

if TYPE_CHECKING:
    import torch

PASS_NAME = "DiffusionMergeLoRA"


class DiffusionMergeLoRAConfig(PassConfig):
    atol: float = Field(
        default=1e-4, ge=0, description="largest absolute difference allowed between merged and adapter-applied outputs"
    )
    rtol: float = Field(default=1e-3, ge=0, description="relative tolerance of the same check")
    check_batch_sizes: list[Annotated[int, Field(ge=1, le=64)]] = Field(
        default_factory=lambda: [1, 2],
        min_length=1,
        description="batch sizes of the seeded example inputs the check runs",
    )


class DiffusionMergeLoRA(Pass):
    """Merge the LoRA adapters attached to a `diffusers` model into its UNet (and text encoder), checked.

    The adapters come from ``input_model.config.lora_adapters`` (diffusers or peft safetensors).
    The merged components must reproduce the adapter-applied outputs on seeded example inputs
    shaped by each component's config; the result is a plain pipeline folder (safetensors) with
    no adapter left to load.
    """

    Config = DiffusionMergeLoRAConfig
    version = "1"
    input_types = ("diffusers",)
    output_type = "diffusers"

    def check_input(self, model: ModelHandler, config: PassConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        if not model.attributes.get("lora_adapters"):
            raise IncompatibleModelError(
                f"{PASS_NAME}: the pipeline '{model.path}' has no LoRA adapter attached",
                hint="name the adapter in input_model.config.lora_adapters, or drop this pass",
            )

    def run(
        self, model: ModelHandler, config: DiffusionMergeLoRAConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        import torch

        from olive_diffusion.components import LORA_COMPONENTS, SOURCE_FOLDERS
        from olive_diffusion.diffusers_model import generation_of
        from olive_diffusion.loading import load_part, wrap_component
        from olive_diffusion.lora import attach_adapters, merge_adapters
        from olive_diffusion.passes.common import component_torch_handle, copy_tree, example_inputs
        from olive_diffusion.shapes import read_pipeline_shapes

        folder = Path(model.path)
        adapters = list(model.attributes["lora_adapters"])
        shapes = read_pipeline_shapes(folder)
        guidance = generation_of(model).uses_guidance
        modules = {component: load_part(folder, SOURCE_FOLDERS[component]) for component in LORA_COMPONENTS}
        tuners = attach_adapters(modules, adapters)

        checks = {}
        for component in tuners:
            handle = component_torch_handle(folder, component, shapes, guidance, "default")
            inputs = [
                example_inputs(handle, batch_size=size, seed=index)
                for index, size in enumerate(config.check_batch_sizes)
            ]
            checks[component] = (inputs, _outputs(wrap_component(component, modules[component]), inputs))
        merged = merge_adapters(tuners)
        differences = {}
        for component, (inputs, expected) in checks.items():
            actual = _outputs(wrap_component(component, merged[component]), inputs)
            differences[component] = _compare(component, expected, actual, config)

        merged_folders = {SOURCE_FOLDERS[component] for component in merged}
        copy_tree(folder, output_dir, ignore=_top_level(folder, merged_folders))
        for component, module in merged.items():
            with torch.no_grad():
                module.save_pretrained(str(output_dir / SOURCE_FOLDERS[component]), safe_serialization=True)
        context.report.update(
            {
                "adapters": [{"name": a["name"], "format": a["format"], "scale": a["scale"]} for a in adapters],
                "components": sorted(merged),
                "max_abs_diff": differences,
            }
        )
        return model.derive(
            path=str(output_dir),
            attributes={"lora_adapters": [], "hub_id": None, "merged_lora": [a["name"] for a in adapters]},
        )


def _outputs(module: torch.nn.Module, inputs: list[tuple[torch.Tensor, ...]]) -> list[torch.Tensor]:
    import torch

    with torch.inference_mode():
        return [module(*args).float().clone() for args in inputs]


def _compare(
    component: str, expected: list[torch.Tensor], actual: list[torch.Tensor], config: DiffusionMergeLoRAConfig
) -> float:
    import torch

    largest = 0.0
    for want, got in zip(expected, actual, strict=True):
        difference = float((want - got).abs().max())
        largest = max(largest, difference)
        if not torch.allclose(got, want, atol=config.atol, rtol=config.rtol):
            raise PassError(
                PASS_NAME,
                f"the merged {component} differs from the adapter-applied one by up to {difference:.3g} "
                f"(atol {config.atol}, rtol {config.rtol})",
                hint="check the adapter's scale and format; raise atol only if such a difference is acceptable",
            )
    return largest


def _top_level(folder: Path, names: set[str]) -> Any:
    """A copytree ignore function leaving out the merged components' folders, which save_pretrained rewrites."""

    def ignore(directory: str, entries: list[str]) -> list[str]:
        return [entry for entry in entries if entry in names] if Path(directory).resolve() == folder.resolve() else []

    return ignore
