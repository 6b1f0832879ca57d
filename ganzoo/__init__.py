"""ganzoo: a Keras 3 model zoo of generative adversarial networks."""

import importlib
import os
import sys

# ganzoo's models use TensorFlow ops (GradientTape, tf.data), so the backend is
# ours to choose; setdefault keeps an explicit user choice visible in errors.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"


def _import_tensorflow_quietly():
    """Import TensorFlow with its C++ start-up chatter filtered from stderr.

    TF 2.21 logs its oneDNN and CUDA notices before `TF_CPP_MIN_LOG_LEVEL` takes
    effect; they would drown ganzoo's one-line errors. Other output passes.
    """
    import re
    import tempfile

    if "tensorflow" in sys.modules:
        return
    noise = re.compile(r"absl::InitializeLog|oneDNN custom operations|cuda drivers|cuInit|"
                       r"cuda_platform|Unable to register cu(DNN|FFT|BLAS) factory|"
                       r"computation placer already registered|This TensorFlow binary is optimized")
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (e.g. embedded interpreters): nothing to filter
        import tensorflow
        return
    with tempfile.TemporaryFile(mode="w+b") as captured:
        sys.stderr.flush()
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow

            # Device discovery logs too (a failed cuInit on CPU-only machines).
            tensorflow.config.list_physical_devices()
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines(keepends=True):
                if not noise.search(line):
                    sys.stderr.write(line)


# `python -m ganzoo.<command>` imports this package first, with sys.argv[0] set
# to "-m" while the module is located (documented in the Python manual): the
# one moment to silence TF for a command, whose stderr must be its own.
if sys.argv[:1] == ["-m"]:
    _import_tensorflow_quietly()

from ganzoo.errors import GanzooError

# The rest of the API loads TensorFlow, so it is imported on first use: a user of
# `ganzoo.metrics` (pure NumPy) or `ganzoo.errors` does not pay for it.
_LAZY = {
    "create_model": "ganzoo.models",
    "list_models": "ganzoo.models",
    "register_model": "ganzoo.models",
    "list_pretrained": "ganzoo.hub",
    "load": "ganzoo.hub",
}

__all__ = [
    "GanzooError", "__version__", "create_model", "list_models", "list_pretrained", "load",
    "register_model",
]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
