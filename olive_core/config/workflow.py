"""The workflow file's shape (phase one of validation).

Every pluggable part is written the same way: ``{"type": <registered name>, "config": {...}}``.
Phase one checks only this shape; each component's own ``config`` is checked in phase two
(:mod:`olive_core.config.validation`) once its type is resolved from the installed plugins.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, field_validator, model_validator

from olive_core.bounds import MAX_SEED, STRICT_CONFIG


class _Strict(BaseModel):
    model_config = STRICT_CONFIG


class ComponentConfig(_Strict):
    """A registered component and its own config, checked once the type is known."""

    type: str = Field(description="registered name of the component")
    config: dict[str, Any] = Field(default_factory=dict, description="the component's own options")


class InputModelConfig(ComponentConfig):
    """The model to optimize: ``{"type": "hf", "config": {"model_path": ...}}``."""


class AcceleratorConfig(_Strict):
    """A target device, and the execution provider to run on it (the first available one, if omitted)."""

    device: str = Field(default="cpu", description="registered device, e.g. 'cpu', 'gpu' or 'npu'")
    provider: str | None = Field(
        default=None,
        description="registered execution provider of that device, e.g. 'QNNExecutionProvider'; "
        "default: the available one the plugins prefer",
    )
    provider_options: dict[str, str] = Field(
        default_factory=dict, description="options for the provider, over its registered defaults"
    )


class PassStepConfig(_Strict):
    """One step of the pass chain.

    ``config`` is one config, or a list of alternative configs that the search chooses among.
    ``type`` may list several passes (``[OnnxDynamicQuantization, OnnxStaticQuantization]``):
    the step runs one of them, a choice the search makes; ``config``, ``search`` and
    ``fallback`` are then shared, each field going to the listed passes that have it.
    ``fallback`` is a config retried when the pass fails (after ``engine.retries`` plain retries).
    ``optional`` adds "skip this step" to the step's choices.
    """

    type: str | list[str] = Field(
        description="registered pass name, e.g. 'OnnxDynamicQuantization', or a list of alternative passes"
    )
    config: dict[str, Any] | list[dict[str, Any]] = Field(
        default_factory=dict, description="pass options, or a list of alternatives to search"
    )
    search: dict[str, Any] = Field(
        default_factory=dict,
        description="per field: a list of values to search, {'low':..,'high':..}, or false to pin it",
    )
    fallback: dict[str, Any] | None = Field(default=None, description="config to retry with if the pass fails")
    optional: bool = Field(default=False, description="also try the chain without this step")

    @field_validator("type", mode="plain")
    @classmethod
    def _name_or_names(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
            repeated = sorted({name for name in value if value.count(name) > 1})
            if repeated:
                raise ValueError(f"each pass is listed once; repeated: {', '.join(repeated)}")
            return value
        raise ValueError("expected a registered pass name, or a non-empty list of pass names")

    @field_validator("config", mode="plain")
    @classmethod
    def _dict_or_list_of_dicts(cls, value: Any) -> Any:
        # One clear error instead of one per union member.
        if isinstance(value, dict):
            return value
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            return value
        raise ValueError("expected an object of pass options, or a non-empty list of such objects")

    @model_validator(mode="after")
    def _one_shared_config_for_several_passes(self) -> PassStepConfig:
        if isinstance(self.type, list) and len(self.type) > 1 and isinstance(self.config, list):
            raise ValueError(
                "a step that lists several passes takes one shared 'config' object; to give each pass its "
                "own configs, write the step as a list: [{type: A, config: ...}, {type: B, config: ...}]"
            )
        return self

    @property
    def types(self) -> list[str]:
        return self.type if isinstance(self.type, list) else [self.type]

    @property
    def alternatives(self) -> list[dict[str, Any]]:
        return self.config if isinstance(self.config, list) else [self.config]


#: the union tags of a pass step's two spellings; config errors leave them out of field paths
PASS_STEP_TAGS = ("pass step", "pass step alternatives")


def _pass_step_form(value: Any) -> str:
    return PASS_STEP_TAGS[1] if isinstance(value, list) else PASS_STEP_TAGS[0]


#: a step: ``{type, config, ...}``, or a list of them whose choices the step unites
#: (``[{type: OnnxDynamicQuantization, config: ...}, {type: OnnxStaticQuantization, config: ...}]``)
PassStep = Annotated[
    Annotated[PassStepConfig, Tag(PASS_STEP_TAGS[0])]
    | Annotated[list[PassStepConfig], Tag(PASS_STEP_TAGS[1]), Field(min_length=1)],
    Discriminator(_pass_step_form),
]


class DataConfig(_Strict):
    """A data set: loaded, pre-processed, batched and post-processed by registered components."""

    load: ComponentConfig = Field(description="the loader, e.g. {'type': 'jsonl', 'config': {'path': ...}}")
    preprocess: list[ComponentConfig] = Field(default_factory=list, description="pre-processing steps, in order")
    postprocess: list[ComponentConfig] = Field(
        default_factory=list, description="steps applied to model outputs before metrics"
    )
    batch_size: int = Field(default=1, ge=1, le=65_536, description="samples per batch")
    max_samples: int | None = Field(default=None, ge=1, le=10_000_000, description="use at most this many samples")


class GoalConfig(_Strict):
    """A goal on one sub-metric; relative goals compare with the input model's own value."""

    threshold: float | None = Field(default=None, description="absolute bound (max for 'min' metrics, min for 'max')")
    max_degradation: float | None = Field(default=None, ge=0, description="worse than the input model by at most this")
    max_degradation_percent: float | None = Field(default=None, ge=0)
    min_improvement: float | None = Field(default=None, ge=0, description="better than the input model by at least this")
    min_improvement_percent: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> GoalConfig:
        given = [name for name, value in self.model_dump().items() if value is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(type(self).model_fields)}; got {len(given)}")
        return self


class MetricConfig(_Strict):
    """A metric to measure on every candidate."""

    name: str = Field(description="name of this metric in results, unique in the workflow")
    type: str = Field(description="registered metric, e.g. 'latency', 'accuracy', 'similarity'")
    data: str | None = Field(default=None, description="name of an entry in 'data'")
    config: dict[str, Any] = Field(default_factory=dict)
    sub_metrics: list[str] | None = Field(default=None, description="which sub-metrics to keep (default: all)")
    goals: dict[str, GoalConfig] = Field(default_factory=dict, description="sub-metric -> goal")


class ObjectiveConfig(_Strict):
    """What the search optimizes: a ``metric-submetric`` key and its priority."""

    metric: str = Field(description="'name-submetric', e.g. 'latency-p50'")
    priority: int = Field(default=1, ge=1, le=100, description="1 is the most important")


class SearchConfig(_Strict):
    """How to search pass settings. Without a strategy, the configs run as written (each list of
    alternatives is still tried in full); with one, the searchable fields a config leaves out
    are searched too."""

    strategy: str | None = Field(default=None, description="registered search strategy, e.g. 'exhaustive'")
    config: dict[str, Any] = Field(default_factory=dict, description="the strategy's own options")
    objectives: list[ObjectiveConfig] = Field(default_factory=list)
    max_trials: int | None = Field(default=None, ge=1, le=1_000_000, description="stop after this many trials")
    max_time_s: float | None = Field(default=None, gt=0, le=30 * 86_400, description="stop proposing trials after this")
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="the same seed proposes the same trials")
    stop_when_goals_met: bool = False
    parallel_trials: int = Field(default=1, ge=1, le=256, description="trials run at once")
    executor: ComponentConfig | None = Field(
        default=None,
        description="where trials run, a registered executor, e.g. {'type': 'dask', 'config': {...}}; "
        "default: 'inline' (this process) with parallel_trials 1, else 'process' (a local process pool)",
    )


class CacheConfig(ComponentConfig):
    type: str = Field(default="local", description="registered cache backend")


class EngineConfig(_Strict):
    cache: CacheConfig = Field(default_factory=CacheConfig)
    output_dir: str = Field(default="olive-output", description="where the chosen model(s) and run.json go")
    retries: int = Field(default=0, ge=0, le=10, description="plain retries of a failing pass")
    evaluate_input_model: bool = Field(default=True, description="measure the input model for comparison")
    input_model_on: Literal["accelerator", "cpu"] = Field(
        default="accelerator",
        description="where the input model runs as the reference candidates compare with: the run's accelerator "
        "(the CPU when its runtime cannot use it), or the CPU, e.g. a float model whose outputs an NPU that runs "
        "quantized, fixed-shape models should not produce",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"


class RuntimeConfig(_Strict):
    """How evaluated models are run; recorded with every measurement."""

    intra_op_num_threads: int | None = Field(
        default=None, ge=1, le=1024, description="threads inside one op (default: runtime's)"
    )
    inter_op_num_threads: int | None = Field(default=None, ge=1, le=1024, description="threads across ops")
    options: dict[str, Any] = Field(default_factory=dict, description="runtime-specific session options")

    def settings(self) -> dict[str, Any]:
        """The settings dict handed to ``ModelType.create_session``."""
        settings = {k: v for k, v in self.model_dump(exclude={"options"}).items() if v is not None}
        return {**settings, **self.options}


class WorkflowConfig(_Strict):
    """The whole workflow file."""

    description: str = Field(
        default="", max_length=10_000, description="what the workflow is for; olive optimize writes its command line here"
    )
    input_model: InputModelConfig
    accelerators: list[AcceleratorConfig] = Field(default_factory=lambda: [AcceleratorConfig()], min_length=1)
    data: dict[str, DataConfig] = Field(default_factory=dict)
    metrics: list[MetricConfig] = Field(default_factory=list)
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)
    passes: dict[str, PassStep] = Field(
        default_factory=dict,
        description="ordered steps; a step is {type, config, ...} or a list of such alternatives (one is run)",
    )
    search: SearchConfig = Field(default_factory=SearchConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    tracking: list[ComponentConfig] = Field(
        default_factory=list,
        max_length=32,
        description="observers of the run, each a registered tracker, e.g. [{'type': 'mlflow', 'config': {...}}]; "
        "a tracker's failure is a warning, never the run's failure",
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> WorkflowConfig:
        names = [metric.name for metric in self.metrics]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"metric names must be unique; repeated: {', '.join(duplicated)}")
        return self
