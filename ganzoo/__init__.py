"""ganzoo: a Keras 3 model zoo of generative adversarial networks."""

import os

# ganzoo's models use TensorFlow ops (GradientTape, tf.data), so the backend is
# ours to choose; setdefault keeps an explicit user choice visible in errors.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

from ganzoo.errors import GanzooError
from ganzoo.registry import create_model, list_models, register_model

__all__ = [
    "GanzooError",
    "__version__",
    "create_model",
    "list_models",
    "register_model",
]
