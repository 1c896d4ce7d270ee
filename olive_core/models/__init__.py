"""Model handles, model types and io configs (no heavy imports)."""

from olive_core.models.handler import ModelHandler
from olive_core.models.io_config import IoConfig
from olive_core.models.model_type import InferenceSession, ModelType, ModelTypeConfig

__all__ = ["ModelHandler", "IoConfig", "InferenceSession", "ModelType", "ModelTypeConfig"]
