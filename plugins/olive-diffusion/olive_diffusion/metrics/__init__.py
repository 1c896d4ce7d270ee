"""Metrics for pipelines: latency per denoising step and per image, image similarity."""
