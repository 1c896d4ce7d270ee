"""DiffusionOnnxConversion: export every component of a `diffusers` pipeline to ONNX.

Each component becomes a `pytorch` handle whose loader builds that component, with the io
config read from the pipeline's configs, and goes through olive-onnx's OnnxConversion: the same
exporters, the same check of ONNX Runtime against PyTorch on several batch sizes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from olive_core.errors import IncompatibleModelError
from olive_core.models.handler import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext

from olive_diffusion.components import COMPONENTS, SUPPORT_FOLDERS, ComponentName

PASS_NAME = "DiffusionOnnxConversion"


class DiffusionOnnxConversionConfig(PassConfig):
    components: list[ComponentName] = Field(
        default_factory=lambda: list(COMPONENTS),
        min_length=1,
        description="components to export; text_encoder, unet and vae_decoder are needed to generate images",
    )
    exporter: Literal["torchscript", "dynamo"] = Field(
        default="torchscript",
        description="'torchscript' (fast: the UNet of a tiny pipeline in about 1 s; the graphs ONNX Runtime's fusions "
        "recognize) or 'dynamo' (torch.export; about 15x slower here)",
    )
    attention: Literal["classic", "default"] = Field(
        default="classic",
        description="'classic' exports attention as MatMul/Softmax (diffusers' AttnProcessor, CLIP eager), which "
        "ONNX Runtime fuses into Attention/MultiHeadAttention; 'default' keeps the model's processors (SDPA)",
    )
    dynamic_image_size: bool = Field(
        default=True,
        description="keep image height and width dynamic; false fixes them to the model's generation size, which makes "
        "ONNX Runtime's fusions much faster (less symbolic shape inference) but runs that size only",
    )
    target_opset: int = Field(default=17, ge=14, le=30, description="ONNX opset of the exported components")
    atol: float = Field(default=1e-4, ge=0, description="absolute tolerance of the ONNX Runtime vs PyTorch check")
    rtol: float = Field(default=1e-3, ge=0, description="relative tolerance of the same check")


class DiffusionOnnxConversion(Pass):
    """Export a `diffusers` pipeline's components to ONNX, each checked against PyTorch: an `onnx_diffusion` pipeline.

    Io configs come from each component's config (text length, latent channels, sample size,
    the doubled UNet batch of classifier-free guidance); batch and image sizes stay dynamic.
    The scheduler and tokenizer folders are kept, so the ONNX pipeline denoises like the original.
    """

    Config = DiffusionOnnxConversionConfig
    version = "1"
    input_types = ("diffusers",)
    output_type = "onnx_diffusion"

    def check_input(self, model: ModelHandler, config: PassConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        if model.attributes.get("lora_adapters"):
            raise IncompatibleModelError(
                f"{PASS_NAME}: the pipeline has LoRA adapters attached, which an export would bake in unmerged",
                hint="put DiffusionMergeLoRA before this pass",
            )

    def run(
        self, model: ModelHandler, config: DiffusionOnnxConversionConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        from olive_onnx.api import OnnxConversion, OnnxConversionConfig

        from olive_diffusion.diffusers_model import generation_of
        from olive_diffusion.manifest import (
            ComponentEntry,
            LineageEntry,
            PipelineManifest,
            component_id,
            write_manifest,
        )
        from olive_diffusion.passes.common import component_torch_handle, copy_tree
        from olive_diffusion.shapes import pipeline_io_config, read_pipeline_shapes

        folder = Path(model.path)
        shapes = read_pipeline_shapes(folder)
        generation = generation_of(model)
        image_size = generation.image_size(shapes)
        conversion = OnnxConversionConfig(
            exporter=config.exporter,
            target_opset=config.target_opset,
            attn_implementation=None,
            atol=config.atol,
            rtol=config.rtol,
            # (batch, sequence): the sequence stays the text length; batch 1 and 2 prove the batch axis dynamic
            check_shapes=[(1, shapes.text_length), (2, shapes.text_length)],
        )
        settings = config.model_dump(mode="json", exclude={"components"})
        entries: dict[str, ComponentEntry] = {}
        reports = {}
        for component in dict.fromkeys(config.components):
            handle = component_torch_handle(
                folder,
                component,
                shapes,
                generation.uses_guidance,
                config.attention,
                image_size,
                config.dynamic_image_size,
            )
            sub_context = PassContext(
                accelerator=context.accelerator, step=f"{context.step}.{component}", logger=context.logger
            )
            (output_dir / component).mkdir()
            exported = OnnxConversion().run(handle, conversion, output_dir / component, sub_context)
            for warning in sub_context.warnings:
                context.warn(f"{component}: {warning}")
            parent = component_id(model.id, "source", "", {"component": component}, "")
            entry = LineageEntry(
                step=context.step,
                pass_type=PASS_NAME,
                config=settings,
                id=component_id(parent, PASS_NAME, self.version, settings, context.accelerator.key()),
                parent=parent,
                report=dict(sub_context.report),
            )
            relative = Path(exported.path).resolve().relative_to(output_dir.resolve()).as_posix()
            entries[component] = ComponentEntry(path=relative, io_config=exported.io_config, lineage=[entry])
            reports[component] = dict(sub_context.report)
        for support in SUPPORT_FOLDERS:
            copy_tree(folder / support, output_dir / support)
        write_manifest(output_dir, PipelineManifest(shapes=shapes, generation=generation, components=entries))
        context.report["components"] = reports
        return ModelHandler(
            type="onnx_diffusion",
            path=str(output_dir),
            io_config=pipeline_io_config(shapes),
            attributes={"generation": generation.model_dump(mode="json")},
        )
