"""olive-mlflow: log every olive run to MLflow (``tracking: [{type: mlflow}]``)."""

__version__ = "0.1.0"
