"""Training: the loop with exact resume, and the callbacks it attaches."""

from ganzoo.training.loop import TrainResult, build_model, default_workdir, train

__all__ = ["TrainResult", "build_model", "default_workdir", "train"]
