"""ganzoo: a Keras 3 model zoo of generative adversarial networks."""

import os

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
    import sys
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


_import_tensorflow_quietly()

from ganzoo.errors import GanzooError
from ganzoo.hub import list_pretrained, load
from ganzoo.registry import create_model, list_models, register_model

__all__ = [
    "GanzooError",
    "__version__",
    "create_model",
    "list_models",
    "list_pretrained",
    "load",
    "register_model",
]
