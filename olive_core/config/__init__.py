"""The workflow file: its shape, loading, and the two validation phases."""

from olive_core.config.loading import parse_workflow, read_workflow_file
from olive_core.config.resolved import ResolvedWorkflow
from olive_core.config.validation import resolve_workflow
from olive_core.config.workflow import WorkflowConfig

__all__ = ["WorkflowConfig", "ResolvedWorkflow", "parse_workflow", "read_workflow_file", "resolve_workflow"]
