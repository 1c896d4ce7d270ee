"""A small, seeded training loop for CPU finetuning: shuffled micro-batches, gradient
accumulation, and the loss of every optimizer step (the curve the lineage records).

Training samples come from a workflow data config. Its batches hold model inputs only (the
loader's ``label`` option sets labels aside for metrics), so the label travels as an ordinary
field, ``labels`` by default: exactly the argument an HF model computes its own loss from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from olive_core.errors import DataError
from olive_core.models.handler import ModelHandler

if TYPE_CHECKING:
    import numpy as np
    import torch

Loss = Literal["auto", "cross_entropy", "mse"]


@dataclass(frozen=True)
class TrainingSettings:
    label_field: str
    loss: Loss
    learning_rate: float
    weight_decay: float
    epochs: int
    max_steps: int | None
    batch_size: int
    accumulation: int
    seed: int


@dataclass
class TrainingData:
    """Every sample's model inputs and label, as tensors with the sample axis first."""

    inputs: dict[str, torch.Tensor]
    labels: torch.Tensor

    @property
    def size(self) -> int:
        return len(self.labels)


def training_data(
    batches: Iterable[dict[str, np.ndarray]], model: ModelHandler, label_field: str, data_name: str
) -> TrainingData:
    """Stack a data config's batches into tensors; name what is missing when it does not fit."""
    import numpy as np
    import torch

    from olive_torch.api import resolve_io_config

    batches = [batch for batch in batches if batch]
    if not batches:
        raise DataError(f"training data '{data_name}' has no samples")
    fields = set(batches[0])
    if label_field not in fields:
        raise DataError(
            f"training data '{data_name}' has no field '{label_field}' (it has: {', '.join(sorted(fields))})",
            hint=f"keep the label in a field named '{label_field}' and do not set the loader's 'label' option "
            "for training data: that option sets labels aside for metrics, out of the batches passes see",
        )
    names = list(resolve_io_config(model).input_names)
    missing = [name for name in names if name not in fields]
    if missing:
        raise DataError(
            f"training data '{data_name}' lacks model input(s) {', '.join(missing)}",
            hint="make its preprocess steps produce every model input (e.g. hf_tokenize)",
        )
    try:
        stacked = {name: np.concatenate([batch[name] for batch in batches]) for name in [*names, label_field]}
    except ValueError as exc:
        raise DataError(
            f"training data '{data_name}': its batches cannot be joined: {exc}",
            hint="pad every sample to one length (hf_tokenize padding 'max_length')",
        ) from exc
    labels = stacked.pop(label_field)
    return TrainingData(
        {name: torch.from_numpy(np.ascontiguousarray(a)) for name, a in stacked.items()}, torch.from_numpy(labels)
    )


def train(module: torch.nn.Module, model: ModelHandler, data: TrainingData, settings: TrainingSettings) -> list[float]:
    """Train the parameters of ``module`` that require grad; return the loss of each optimizer step."""
    import torch

    parameters = [parameter for parameter in module.parameters() if parameter.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    step_loss = _loss_function(module, model, settings.loss)
    generator = torch.Generator().manual_seed(settings.seed)
    losses: list[float] = []
    module.train()
    for _ in range(settings.epochs):
        order = torch.randperm(data.size, generator=generator)
        micro_batches = list(order.split(settings.batch_size))
        running, pending = 0.0, 0
        for number, indices in enumerate(micro_batches, start=1):
            inputs = {name: tensor[indices] for name, tensor in data.inputs.items()}
            loss = step_loss(inputs, data.labels[indices]) / settings.accumulation
            loss.backward()
            running, pending = running + float(loss.detach()), pending + 1
            if pending == settings.accumulation or number == len(micro_batches):
                optimizer.step()
                optimizer.zero_grad()
                losses.append(running * settings.accumulation / pending)
                running, pending = 0.0, 0
                if settings.max_steps is not None and len(losses) >= settings.max_steps:
                    module.eval()
                    return losses
    module.eval()
    return losses


def _loss_function(module: torch.nn.Module, model: ModelHandler, loss: Loss) -> Any:
    """``(inputs, labels) -> loss``: the HF model's own loss for 'auto', else on the first output."""
    import torch

    from olive_torch.api import wrap_for_io

    if loss == "auto" and model.type == "hf":
        return lambda inputs, labels: module(**inputs, labels=labels).loss
    wrapped = wrap_for_io(module, model).train()

    def compute(inputs: dict[str, torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
        output = wrapped(*inputs.values())[0]  # inputs are in io-config order
        if loss == "mse":
            return torch.nn.functional.mse_loss(output.float(), labels.float().reshape(output.shape))
        return torch.nn.functional.cross_entropy(output.float(), labels.long())

    return compute
