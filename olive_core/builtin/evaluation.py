"""Core's own data components and metrics, registered by import path so nothing loads until used."""

from __future__ import annotations

from olive_core import hookimpl
from olive_core.registry import Registrar

_LOADERS = "olive_core.evaluation.loaders"
_POST = "olive_core.evaluation.postprocess"
_METRICS = "olive_core.evaluation.metrics"


@hookimpl
def register_data_components(register: Registrar) -> None:
    register("jsonl", f"{_LOADERS}.files:JsonlLoader")
    register("json", f"{_LOADERS}.files:JsonLoader")
    register("csv", f"{_LOADERS}.files:CsvLoader")
    register("text_lines", f"{_LOADERS}.files:TextLinesLoader")
    register("npz", f"{_LOADERS}.files:NpzLoader")
    register("parquet", f"{_LOADERS}.files:ParquetLoader")
    register("hf_dataset_disk", f"{_LOADERS}.hf:HfDatasetDiskLoader")
    register("hf_dataset_hub", f"{_LOADERS}.hf:HfDatasetHubLoader")
    register("synthetic", f"{_LOADERS}.synthetic:SyntheticLoader")
    register("cast", "olive_core.evaluation.preprocess:Cast")
    register("mean_pool", f"{_POST}:MeanPool")
    register("l2_normalize", f"{_POST}:L2Normalize")
    register("argmax", f"{_POST}:Argmax")
    register("select_output", f"{_POST}:SelectOutput")
    register("logits_to_labels", f"{_POST}:LogitsToLabels")


@hookimpl
def register_metrics(register: Registrar) -> None:
    register("latency", f"{_METRICS}.latency:LatencyMetric")
    register("throughput", f"{_METRICS}.throughput:ThroughputMetric")
    register("accuracy", f"{_METRICS}.accuracy:AccuracyMetric")
    register("similarity", f"{_METRICS}.similarity:SimilarityMetric")
    register("size", f"{_METRICS}.size:SizeMetric")
    register("memory", f"{_METRICS}.memory:MemoryMetric")
