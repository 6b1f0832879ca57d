"""Training: the loop with exact resume, and the callbacks it attaches."""

from ganzoo.training.loop import (
    INSTABILITY_FILE,
    TrainingDiverged,
    TrainResult,
    build_model,
    default_workdir,
    train,
)

__all__ = ["INSTABILITY_FILE", "TrainResult", "TrainingDiverged", "build_model", "default_workdir", "train"]
