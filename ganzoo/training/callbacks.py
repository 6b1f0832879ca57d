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
from ganzoo.training.cpu import CpuMeter

# What tensorboard's scalar summaries carry, without depending on tensorboard.
_SCALAR_METADATA = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
)


# TensorBoard's image plugin reads a string tensor [width, height, png, ...].
_IMAGE_METADATA = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="images")
)


def write_png_summary(name, path, step):
    """Log the PNG at `path` as a TensorBoard image, without tensorboard installed."""
    png = tf.io.read_file(path)
    shape = tf.shape(tf.io.decode_png(png))
    tensor = tf.stack([tf.strings.as_string(shape[1]), tf.strings.as_string(shape[0]), png])
    tf.summary.write(name, tensor, step=step, metadata=_IMAGE_METADATA)


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
    start-up, like building the model. Time inside `paused()` (evaluations,
    checkpoint writes) does not count. `limit=None` only counts.
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


def decay_factor(kind, progress):
    """The learning-rate multiplier at `progress` (0 to 1) through a run's budget:
    1 throughout for "none", 1 - p for "linear", (1 + cos(pi p)) / 2 for "cosine"."""
    p = min(max(float(progress), 0.0), 1.0)
    if kind == "linear":
        return 1.0 - p
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * p))
    return 1.0


class LearningRateDecay(keras.callbacks.Callback):
    """Decays both learning rates to 0 over the run's budget (`lr_decay`).

    Progress is the larger of steps done / `total_steps` and training time spent /
    the `clock`'s limit, so a run bounded by minutes decays on its clock. Rates
    are set from the model's hyperparameters times `scale` (a rollback's
    factor) before every graph call, so a resumed run picks up where it was.
    """

    def __init__(self, kind, total_steps=None, clock=None, scale=1.0):
        super().__init__()
        self.kind, self.total_steps, self.clock, self.scale = kind, total_steps, clock, scale

    def progress(self):
        done = [self.model.step / self.total_steps] if self.total_steps else []
        if self.clock is not None and self.clock.limit:
            done.append(self.clock.elapsed() / self.clock.limit)
        return max(done, default=0.0)

    def on_train_batch_begin(self, batch, logs=None):
        factor = self.scale * decay_factor(self.kind, self.progress())
        g_rate = self.model.learning_rate
        d_rate = self.model.d_learning_rate or g_rate
        for optimizer, rate in ((self.model.g_optimizer, g_rate), (self.model.d_optimizer, d_rate)):
            optimizer.learning_rate = rate * factor


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
    (the loop records the training time spent up to it). With a `clock`
    (`TimeBudget`), writing does not count as training time: a checkpoint's
    fsync can wait many seconds on other processes' writes to the same disk.
    """

    def __init__(self, workdir, every=0, keep=3, guard=None, before_save=None, clock=None):
        super().__init__()
        self.workdir, self.every, self.keep, self.guard = workdir, every, keep, guard
        self.before_save, self.clock = before_save, clock
        self.last_saved = None

    def save(self):
        """Checkpoint the current step, unless it diverged or is saved already."""
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
            with self.clock.paused() if self.clock is not None else contextlib.nullcontext():
                checkpoints.save_checkpoint(self.model, self.workdir, self.keep)
            self.last_saved = step

    def on_train_batch_end(self, batch, logs=None):
        if self.every and self.model.step % self.every == 0:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        self.save()


class SampleGrid(keras.callbacks.Callback):
    """Writes samples from one fixed latent batch at the start and each epoch end.

    Conditional models get one row per class; points get a scatter plot over
    real points (projected to 2-D when D != 2, see `ganzoo.images`).
    """

    def __init__(self, directory, num_samples, seed, reference=None, log_dir=None):
        super().__init__()
        self.directory, self.num_samples, self.seed = directory, num_samples, seed
        self.reference = reference
        # Grids go to TensorBoard too, beside the scalars.
        self.writer = tf.summary.create_file_writer(log_dir) if log_dir else None

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
        path = self.write()
        if self.writer is not None:
            with self.writer.as_default():
                write_png_summary("samples", path, self.model.step)
            self.writer.flush()


class InstabilityMonitor(keras.callbacks.Callback):
    """Warns, in one line naming the symptom and the step, when a known failure
    shows in the epoch's logs or samples (once per symptom and run):

    - the discriminator wins outright: `d_accuracy` >= `win_accuracy` for
      `patience` epochs in a row;
    - a blow-up: a loss or gradient norm `blowup` times its first epoch's size,
      or above `limit` (healthy GAN losses and norms stay far below it);
    - a collapse: samples of one fixed latent batch spread less than
      `collapse_ratio` of what real examples do (mean pairwise distance).
    """

    def __init__(self, real_examples=None, seed=0, num=64, patience=3, win_accuracy=0.99,
                 blowup=1000.0, limit=1e5, collapse_ratio=0.1, record_path=None):
        super().__init__()
        # Each warning is also appended to `record_path` (JSON lines), for `compare`.
        self.record_path = record_path
        self.real_examples, self.seed, self.num = real_examples, seed, num
        self.patience, self.win_accuracy = patience, win_accuracy
        self.blowup, self.limit, self.collapse_ratio = blowup, limit, collapse_ratio
        self.warned, self.first, self.winning = set(), {}, 0
        self.real_spread = None if real_examples is None else spread(real_examples[:num])

    def warn(self, symptom, text):
        if symptom not in self.warned:
            self.warned.add(symptom)
            logging.warning("instability at step %d: %s", self.model.step, text)
            if self.record_path:
                with open(self.record_path, "a") as f:
                    f.write(json.dumps({"step": int(self.model.step), "symptom": symptom,
                                        "text": text}) + "\n")

    def on_train_begin(self, logs=None):
        z = keras.random.normal((self.num, self.model.latent_dim), seed=self.seed)
        self.z = keras.ops.convert_to_numpy(z)
        self.labels = None
        if self.model.conditional:
            self.labels = (np.arange(self.num) % self.model.num_classes).astype("int32")

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items() if not k.startswith("eval_")}
        accuracy = logs.get("d_accuracy")
        self.winning = self.winning + 1 if accuracy is not None and accuracy >= self.win_accuracy else 0
        if self.winning >= self.patience:
            self.warn("win", f"the discriminator wins outright (d_accuracy={accuracy:.3f} for "
                             f"{self.winning} epochs): the generator gets no useful gradient")
        for key, value in logs.items():
            if not ("loss" in key or key.endswith("grad_norm")) or not math.isfinite(value):
                continue
            first = self.first.setdefault(key, abs(value))
            if abs(value) > self.limit:
                self.warn("blowup", f"{key}={value:.4g} blew up (above {self.limit:g}): lower the "
                                    "learning rate")
            elif abs(value) > self.blowup * max(first, 1e-3):
                self.warn("blowup", f"{key}={value:.4g} blew up ({self.blowup:g}x its first epoch's "
                                    f"{first:.4g}): lower the learning rate")
        if self.real_spread:
            samples = keras.ops.convert_to_numpy(self.model.generate(self.z, self.labels))
            ratio = spread(samples) / self.real_spread
            if ratio < self.collapse_ratio:
                self.warn("collapse", f"samples collapsed: a fixed latent batch spreads {ratio:.3f} "
                                      "as far as real examples do (mode collapse)")


def spread(examples):
    """Mean pairwise Euclidean distance between examples (flattened)."""
    x = np.asarray(examples, "float64").reshape(len(examples), -1)
    squares = (x**2).sum(axis=1)
    d2 = np.maximum(squares[:, None] + squares[None, :] - 2 * x @ x.T, 0.0)
    n = len(x)
    return float(np.sqrt(d2).sum() / max(n * (n - 1), 1))


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
    """Appends each epoch's average losses to `metrics.csv` and to tf.summary,
    with the epoch's wall seconds, the process's CPU seconds and, on Linux, the
    share of CPU time the hypervisor stole (what a time budget really bought)."""

    def __init__(self, workdir):
        super().__init__()
        self.csv_path = os.path.join(workdir, "metrics.csv")
        self.writer = tf.summary.create_file_writer(os.path.join(workdir, "logs"))
        self.fields = None
        self.cpu = CpuMeter()

    def on_train_begin(self, logs=None):
        self.epoch_started = time.time()
        self.cpu.start()
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
        self.cpu.start()

    def on_epoch_end(self, epoch, logs=None):
        step = self.model.step
        values = {k: float(v) for k, v in sorted((logs or {}).items())}
        row = {"step": step, "epoch": epoch + 1, "seconds": round(time.time() - self.epoch_started, 3),
               **self.cpu.lap(), **values}
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
