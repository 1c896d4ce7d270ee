"""Built-in metrics, one module each; registered by :mod:`olive_core.builtin.evaluation`."""
