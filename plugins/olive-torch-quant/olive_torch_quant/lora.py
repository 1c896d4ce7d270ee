"""LoRAFinetuning: train a peft LoRA adapter on a workflow data config, on CPU."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

from pydantic import Field

from olive_core.bounds import Seed
from olive_core.errors import DataError, IncompatibleModelError
from olive_core.models.handler import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext, Searchable
from olive_torch_quant.torch_models import ADAPTER, check_rewritable
from olive_torch_quant.training import Loss

#: peft task types by olive-torch task: they pick the PeftModel class and the heads peft trains
PEFT_TASK_TYPES = {
    "text-classification": "SEQ_CLS",
    "token-classification": "TOKEN_CLS",
    "question-answering": "QUESTION_ANS",
    "text-generation": "CAUSAL_LM",
    "feature-extraction": "FEATURE_EXTRACTION",
}
ADAPTER_FOLDER = "adapter"


class LoRAFinetuningConfig(PassConfig):
    data: str = Field(description="the workflow data config to train on; each sample carries its label in label_field")
    label_field: str = Field(
        default="labels",
        description="the sample field holding the training label (not renamed by the loader's 'label' option, "
        "which keeps labels out of the batches passes see)",
    )
    r: Annotated[int, Searchable(choices=(4, 8, 16))] = Field(default=8, ge=1, le=4096, description="LoRA rank")
    alpha: float | None = Field(default=None, gt=0, description="LoRA scaling numerator (lora_alpha); null: 2 * r")
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0, description="dropout on the LoRA branch during training")
    target_modules: list[str] | None = Field(
        default=None,
        description="modules that get LoRA layers (names or suffixes, as peft matches them); null: peft's "
        "default for an hf architecture (e.g. query and value); required for pytorch models",
    )
    modules_to_save: list[str] | None = Field(
        default=None,
        description="modules trained in full and saved with the adapter (e.g. a new head); null: the "
        "classification head that peft's task type names, for hf models",
    )
    learning_rate: Annotated[float, Searchable(choices=(5e-4, 1e-3, 2e-3, 5e-3))] = Field(
        default=1e-3, gt=0, description="AdamW learning rate"
    )
    weight_decay: float = Field(default=0.0, ge=0.0, description="AdamW weight decay")
    epochs: int = Field(default=3, ge=1, le=10_000, description="passes over the training data")
    max_steps: int | None = Field(default=None, ge=1, le=10_000_000, description="stop after this many optimizer steps")
    batch_size: int = Field(default=16, ge=1, le=65_536, description="samples per micro-batch")
    gradient_accumulation_steps: int = Field(
        default=1, ge=1, le=65_536, description="micro-batches per optimizer step (effective batch: batch_size times this)"
    )
    loss: Loss = Field(
        default="auto",
        description="'auto': an hf model's own loss from its labels argument, cross entropy on the first "
        "output for pytorch models; 'cross_entropy' or 'mse' on the first output",
    )
    seed: Seed = Field(default=0, description="seeds the adapter's initialization, dropout and shuffling")


class LoRAFinetuning(Pass):
    """Finetune an `hf` or `pytorch` model with LoRA (peft) on a training data config, on CPU.

    The base weights stay as they were; the output is the model with its adapter in an 'adapter'
    folder beside them, which olive-torch applies on load (evaluate it as it is, or merge it with
    MergeLoRA). Training is seeded and small: micro-batches, gradient accumulation, a few epochs.
    Reports the loss of every optimizer step and the trainable parameter count.
    """

    Config = LoRAFinetuningConfig
    version = "1"
    input_types = ("hf", "pytorch")
    output_type = None  # the output keeps the input's type

    def check_input(self, model: ModelHandler, config: LoRAFinetuningConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        check_rewritable("LoRAFinetuning", model)
        if model.type == "pytorch" and not config.target_modules:
            raise IncompatibleModelError(
                "LoRAFinetuning needs target_modules for a pytorch model: peft knows default targets only "
                "for transformers architectures",
                hint="name the nn.Linear layers to adapt, e.g. target_modules: ['fc1', 'fc2']",
            )

    def run(
        self, model: ModelHandler, config: LoRAFinetuningConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        import torch
        from peft import LoraConfig, get_peft_model

        from olive_torch_quant.torch_models import load_module, save_module
        from olive_torch_quant.training import TrainingSettings, train, training_data

        if context.data is None:
            raise DataError(
                f"LoRAFinetuning trains on data '{config.data}', but this run has no data configs",
                hint="define the training data under 'data' in the workflow",
            )
        data = training_data(context.data(config.data), model, config.label_field, config.data)
        settings = TrainingSettings(
            label_field=config.label_field,
            loss=config.loss,
            learning_rate=config.learning_rate,
            weight_decay=config.weight_decay,
            epochs=config.epochs,
            max_steps=config.max_steps,
            batch_size=config.batch_size,
            accumulation=config.gradient_accumulation_steps,
            seed=config.seed,
        )
        module = load_module(model)
        base = save_module(module, model, output_dir)  # the frozen base weights, as loaded
        lora = LoraConfig(
            r=config.r,
            lora_alpha=config.alpha if config.alpha is not None else 2 * config.r,
            lora_dropout=config.dropout,
            target_modules=config.target_modules,
            modules_to_save=config.modules_to_save,
            task_type=PEFT_TASK_TYPES.get(model.attributes.get("task", "")) if model.type == "hf" else None,
        )
        with torch.random.fork_rng():
            torch.manual_seed(config.seed)
            try:
                with warnings.catch_warnings():
                    # peft 0.21 reads a property transformers 5 deprecates: nothing for a user to do
                    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
                    adapted = get_peft_model(module, lora)
            except ValueError as exc:  # peft: unknown architecture or target modules not found
                raise IncompatibleModelError(f"peft cannot add LoRA layers: {exc}", hint="set target_modules") from exc
            trainable, total = adapted.get_nb_trainable_parameters()
            losses = train(adapted, model, data, settings)

        adapter_base = Path(base.path) if base.type == "hf" else Path(base.path).parent
        adapted.save_pretrained(str(adapter_base / ADAPTER_FOLDER))
        context.report.update(
            {
                "loss_curve": [round(value, 5) for value in losses],
                "first_loss": round(losses[0], 5),
                "final_loss": round(losses[-1], 5),
                "optimizer_steps": len(losses),
                "train_samples": data.size,
                "trainable_parameters": trainable,
                "total_parameters": total,
                "target_modules": sorted(adapted.peft_config["default"].target_modules or []),
            }
        )
        files = list(base.files) + ([str(adapter_base / ADAPTER_FOLDER)] if base.type == "pytorch" else [])
        return base.derive(files=files, attributes={ADAPTER: ADAPTER_FOLDER})
