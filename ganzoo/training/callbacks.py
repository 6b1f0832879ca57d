"""Keras callbacks that `ganzoo.training.train` attaches to `model.fit`."""

import contextlib
import csv
import json
import math
import os
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging
from tensorflow.core.framework import summary_pb2

from ganzoo import checkpoints, images

# What tensorboard's scalar summaries carry, without depending on tensorboard.
_SCALAR_METADATA = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
)


def write_scalar(name, value, step):
    tf.summary.write(name, tf.constant(value, tf.float32), step=step, metadata=_SCALAR_METADATA)


class StopAtStep(keras.callbacks.Callback):
    """Ends training once the generator has made `total_steps` updates."""

    def __init__(self, total_steps):
        super().__init__()
        self.total_steps = total_steps

    def on_train_batch_end(self, batch, logs=None):
        if self.model.step >= self.total_steps:
            self.model.stop_training = True


class TimeBudget(keras.callbacks.Callback):
    """Counts training wall time and ends training once `limit` seconds are spent.

    `spent` seconds come from earlier segments of a resumed run. The clock starts
    when the segment's first step is done: tracing (and compiling) the step is
    start-up, like building the model. Time inside `paused()` (evaluations) does
    not count. `limit=None` only counts.
    """

    def __init__(self, limit=None, spent=0.0):
        super().__init__()
        self.limit, self.spent = limit, float(spent)
        self.began, self.excluded = None, 0.0

    def elapsed(self):
        if self.began is None:
            return self.spent
        return self.spent + time.monotonic() - self.began - self.excluded

    def exhausted(self):
        return self.limit is not None and self.elapsed() >= self.limit

    @contextlib.contextmanager
    def paused(self):
        started = time.monotonic()
        try:
            yield
        finally:
            self.excluded += time.monotonic() - started

    def on_train_batch_end(self, batch, logs=None):
        if self.began is None:
            self.began = time.monotonic()
        elif self.exhausted():
            self.model.stop_training = True


class NonFiniteGuard(keras.callbacks.Callback):
    """Stops at the first NaN or Inf loss, before any checkpoint can store it."""

    def __init__(self):
        super().__init__()
        self.failure = None

    def on_train_batch_end(self, batch, logs=None):
        # Losses first, so the message names the loss rather than a diagnostic.
        for key, value in sorted((logs or {}).items(), key=lambda kv: "loss" not in kv[0]):
            if not math.isfinite(float(value)):
                self.failure = (self.model.step, key, float(value))
                self.model.stop_training = True
                return


def _first_non_finite_weight(model):
    for weight in model.weights:
        if weight.dtype.startswith("float") and not np.isfinite(
            keras.ops.convert_to_numpy(weight.value)
        ).all():
            return weight.path
    return None


class Checkpointer(keras.callbacks.Callback):
    """Checkpoints at each epoch end and every `every` steps (when > 0).

    `before_save(step)`, when given, runs just before each checkpoint is written
    (the loop records the training time spent up to it).
    """

    def __init__(self, workdir, every=0, keep=3, guard=None, before_save=None):
        super().__init__()
        self.workdir, self.every, self.keep, self.guard = workdir, every, keep, guard
        self.before_save = before_save
        self.last_saved = None

    def _save(self):
        if self.guard is not None and self.guard.failure is not None:
            return  # never store a diverged model over a good one
        step = self.model.step
        bad = _first_non_finite_weight(self.model)
        if bad is not None:
            # Weights can go bad before any loss shows it: refuse to store them.
            if self.guard is not None:
                self.guard.failure = (step, f"weight {bad}", float("nan"))
            self.model.stop_training = True
            return
        if step != self.last_saved:
            if self.before_save is not None:
                self.before_save(step)
            checkpoints.save_checkpoint(self.model, self.workdir, self.keep)
            self.last_saved = step

    def on_train_batch_end(self, batch, logs=None):
        if self.every and self.model.step % self.every == 0:
            self._save()

    def on_epoch_end(self, epoch, logs=None):
        self._save()


class SampleGrid(keras.callbacks.Callback):
    """Writes samples from one fixed latent batch at the start and each epoch end.

    Conditional models get one row per class; points get a scatter plot over
    real points (projected to 2-D when D != 2, see `ganzoo.images`).
    """

    def __init__(self, directory, num_samples, seed, reference=None):
        super().__init__()
        self.directory, self.num_samples, self.seed = directory, num_samples, seed
        self.reference = reference

    def on_train_begin(self, logs=None):
        os.makedirs(self.directory, exist_ok=True)
        model = self.model
        points = images.draws_points(model.data_shape)
        num = 2000 if points else self.num_samples
        self.labels, self.columns = None, None
        if model.conditional:
            per_class = max(1, num // model.num_classes)
            self.labels = np.repeat(np.arange(model.num_classes), per_class).astype("int32")
            num = len(self.labels)
            self.columns = None if points else per_class
        z = keras.random.normal((num, model.latent_dim), seed=self.seed)
        self.z = keras.ops.convert_to_numpy(z)
        if model.step == 0:
            self.write()

    def write(self):
        samples = self.model.generate(self.z, self.labels)
        path = os.path.join(self.directory, f"step_{self.model.step:08d}.png")
        images.save_samples(keras.ops.convert_to_numpy(samples), path, self.columns, self.reference)
        return path

    def on_epoch_end(self, epoch, logs=None):
        self.write()


class EvaluateEvery(keras.callbacks.Callback):
    """Scores the generator every `every` steps (and at the start) with
    `evaluate_fn(model) -> {"metrics", "stamp", "score"}` (higher score is
    better), logs the metrics with the losses, appends each result to
    `evaluations.jsonl` and keeps the best weights in `checkpoints/best.keras`.

    Training does not know how to evaluate: the command that trains passes the
    function in (`ganzoo.evaluation.scorer_for`). With a `TimeBudget` as
    `clock`, time spent evaluating is not counted as training time.
    """

    def __init__(self, workdir, every, evaluate_fn, guard=None, clock=None):
        super().__init__()
        self.workdir, self.every, self.evaluate_fn, self.guard = workdir, every, evaluate_fn, guard
        self.clock = clock
        self.latest = {}
        self.best = None

    def evaluate(self):
        step = self.model.step
        with self.clock.paused() if self.clock is not None else contextlib.nullcontext():
            result = dict(self.evaluate_fn(self.model))
        score = result.pop("score")
        values = {k: float(v) for k, v in result["metrics"].items() if isinstance(v, (int, float))}
        self.latest = values
        with open(os.path.join(self.workdir, "evaluations.jsonl"), "a") as f:
            f.write(json.dumps({"step": step, **result}) + "\n")
        for key, value in values.items():
            write_scalar(f"eval/{key}", value, step)
        diverged = self.guard is not None and self.guard.failure is not None
        if step > 0 and not diverged and (self.best is None or score > self.best):
            self.best = score
            checkpoints.save_best(self.model, self.workdir)
        logging.info("step %d evaluation: %s", step, ", ".join(f"{k}={v:.4f}" for k, v in values.items()))

    def on_train_begin(self, logs=None):
        self.evaluate()

    def on_train_batch_end(self, batch, logs=None):
        if self.model.step % self.every == 0:
            self.evaluate()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs.update({f"eval_{k}": v for k, v in self.latest.items()})


class MetricsLogger(keras.callbacks.Callback):
    """Appends each epoch's average losses to `metrics.csv` and to tf.summary."""

    def __init__(self, workdir):
        super().__init__()
        self.csv_path = os.path.join(workdir, "metrics.csv")
        self.writer = tf.summary.create_file_writer(os.path.join(workdir, "logs"))
        self.fields = None

    def on_train_begin(self, logs=None):
        self.epoch_started = time.time()
        if os.path.exists(self.csv_path):
            # A run killed after logging but before checkpointing logged steps that
            # the resumed run will redo: drop them so each step appears once.
            with open(self.csv_path, newline="") as f:
                rows = list(csv.DictReader(f))
            kept = [row for row in rows if int(row["step"]) <= self.model.step]
            if len(kept) < len(rows):
                with open(self.csv_path, "w", newline="") as f:
                    writer = csv.DictWriter(f, list(rows[0]))
                    writer.writeheader()
                    writer.writerows(kept)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.time()

    def on_epoch_end(self, epoch, logs=None):
        step = self.model.step
        values = {k: float(v) for k, v in sorted((logs or {}).items())}
        row = {"step": step, "epoch": epoch + 1, "seconds": round(time.time() - self.epoch_started, 3), **values}
        new = not os.path.exists(self.csv_path)
        if self.fields is None:
            self.fields = list(row) if new else _read_header(self.csv_path) or list(row)
        with open(self.csv_path, "a", newline="") as f:
            writer = csv.DictWriter(f, self.fields, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)
        with self.writer.as_default(step=step):
            for key, value in values.items():
                write_scalar(key, value, step)
        self.writer.flush()
        logging.info("step %d: %s", step, ", ".join(f"{k}={v:.4f}" for k, v in values.items()))


def _read_header(path):
    with open(path, newline="") as f:
        return next(csv.reader(f), None)
