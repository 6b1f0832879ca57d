"""`train(config, workdir)`: train a model, checkpointing and resuming exactly.

Training knows nothing of evaluation or export: a caller that wants the
generator scored during training passes `evaluate_fn` (the command
`python -m ganzoo.train` passes `ganzoo.evaluation.scorer_for(config)`).
"""

import dataclasses
import json
import math
import os
import re
import sys
import time

import keras
import tensorflow as tf
from absl import logging

from ganzoo import checkpoints, data, fileio, images
from ganzoo.config import RESUMABLE_CHANGES, TrainConfig, from_dict
from ganzoo.distribute import make_strategy, precision
from ganzoo.errors import GanzooError
from ganzoo.models import create_model, get_model_class
from ganzoo.training import callbacks as ganzoo_callbacks

MIN_STEPS_PER_EPOCH = 100


@dataclasses.dataclass
class TrainResult:
    model: keras.Model
    workdir: str
    steps: int
    seconds: float
    resumed_from: str = None
    history: dict = dataclasses.field(default_factory=dict)


def default_workdir(config):
    dataset = re.sub(r"[^A-Za-z0-9_.-]+", "_", config.dataset.split(":", 1)[-1]).strip("_")
    return os.path.join("runs", f"{config.model}-{dataset or 'data'}")


def build_model(config, info):
    """Create and compile `config.model` for data described by `info`."""
    hyperparameters = {**config.hparams, "data_shape": info.shape, "seed": config.seed}
    if get_model_class(config.model).conditional:
        if not info.num_classes:
            raise GanzooError(
                f"model {config.model!r} needs labels but dataset {config.dataset!r} has none; "
                "accepted: a labelled dataset (digits, ring8, grid25, mnist, ...)"
            )
        hyperparameters["num_classes"] = config.hparams.get("num_classes") or info.num_classes
    model = create_model(config.model, **hyperparameters)
    model.compile(jit_compile=config.jit_compile, steps_per_execution=config.steps_per_execution)
    return model


def _canonical(value):
    return json.dumps(value, sort_keys=True, default=list)


def _check_same_run(config, workdir):
    """Refuse to resume a workdir that holds a different run."""
    path = os.path.join(workdir, "config.json")
    if not os.path.exists(path) or not checkpoints.list_checkpoints(workdir):
        return
    with open(path) as f:
        saved = from_dict(json.load(f), source=path).to_dict()
    current = config.to_dict()
    for key in sorted(current):
        if key not in RESUMABLE_CHANGES and _canonical(saved.get(key)) != _canonical(current[key]):
            raise GanzooError(
                f"workdir {workdir} holds a run with {key}={saved.get(key)!r}, not {current[key]!r}; "
                "accepted: the same settings to resume (only steps/epochs/checkpointing may change), "
                "or another --workdir"
            )


def _worker_workdir(strategy, workdir):
    """The chief writes to `workdir`; other workers to `workdir/workers/<id>`.

    Every worker must take part in saving (it may run collectives), but only
    the chief's files are the run's.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type or resolver.task_type == "chief":
        return workdir
    if resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in (
        resolver.cluster_spec().as_dict()
    ):
        return workdir
    return os.path.join(workdir, "workers", f"{resolver.task_type}-{resolver.task_id}")


def train(config: TrainConfig, workdir: str, evaluate_fn=None, extra_callbacks=(),
          verbose=None) -> TrainResult:
    """Train `config.model` on `config.dataset`, checkpointing into `workdir`.

    Resumes from the newest checkpoint in `workdir` if there is one: weights,
    both optimizers, the step count and the RNG state. With `eval_every` set,
    `evaluate_fn(model) -> {"metrics", "stamp", "score"}` scores the model.
    """
    config = config.validate()
    if config.eval_every and evaluate_fn is None:
        raise GanzooError(
            f"eval_every={config.eval_every} needs an evaluation; accepted: pass evaluate_fn "
            "(ganzoo.train.train does), or eval_every=0"
        )
    # Multi-worker strategies must exist before any other TensorFlow op runs.
    strategy = make_strategy(config.strategy)
    if config.jit_compile and strategy.num_replicas_in_sync > 1:
        raise GanzooError(
            f"jit_compile=true with strategy={config.strategy} over "
            f"{strategy.num_replicas_in_sync} replicas fails in XLA (each replica's seed-generator "
            "state lives on another device); accepted: jit_compile=false"
        )
    workdir = _worker_workdir(strategy, os.path.abspath(workdir))
    try:
        os.makedirs(workdir, exist_ok=True)
    except OSError as e:
        raise GanzooError(f"cannot create workdir {workdir}: {e.strerror}") from None
    if not os.access(workdir, os.W_OK):
        raise GanzooError(f"workdir {workdir} is not writable; accepted: a writable directory")
    with checkpoints.WorkdirLock(workdir), precision(config.precision):
        _check_same_run(config, workdir)
        checkpoints.remove_stale_temporaries(workdir)
        fileio.atomic_write(os.path.join(workdir, "config.json"), config.to_json())

        keras.utils.set_random_seed(config.seed)
        dataset, info = data.load(
            config.dataset, split=config.split, seed=config.seed, shuffle=True, repeat=True,
            data_dir=config.data_dir, image_size=config.image_size, on_corrupt=config.on_corrupt,
            num_classes=config.hparams.get("num_classes"),
        )
        with strategy.scope():
            model = build_model(config, info)
        model.check_batch_size(config.batch_size, strategy.num_replicas_in_sync)
        real_batch = config.batch_size * model.real_batches_per_step
        if info.num_examples < real_batch:
            raise GanzooError(
                f"batch of {real_batch} real examples per step is larger than the "
                f"{info.num_examples} examples of {config.dataset!r}; accepted: a smaller batch_size"
            )
        batches = dataset.batch(real_batch, drop_remainder=True)

        resumed_from = checkpoints.restore_latest(model, workdir)
        if resumed_from:
            logging.info("resuming from %s at step %d", resumed_from, model.step)
        steps_per_epoch = config.steps_per_epoch or max(
            info.num_examples // real_batch, MIN_STEPS_PER_EPOCH
        )
        total = config.total_steps(steps_per_epoch)
        if model.step >= total:
            logging.info("already trained for %d steps (asked for %d)", model.step, total)
        reference = None
        if images.draws_points(info.shape):
            reference = data.load_numpy(config.dataset, config.split, max_examples=2000)[0]
        if verbose is None:
            verbose = 1 if sys.stdout.isatty() else 2
        began, history, rollbacks = time.time(), {}, 0
        while model.step < total:
            start = model.step
            guard = ganzoo_callbacks.NonFiniteGuard()
            fit = model.fit(
                # The seeded stream is deterministic: skipping what was consumed makes a
                # resumed run see exactly the batches an uninterrupted one would.
                batches.skip(start).prefetch(tf.data.AUTOTUNE),
                epochs=math.ceil(total / steps_per_epoch),
                initial_epoch=start // steps_per_epoch,
                steps_per_epoch=steps_per_epoch,
                callbacks=_callbacks(config, workdir, total, guard, reference, evaluate_fn,
                                     extra_callbacks),
                verbose=verbose,
                shuffle=False,  # the tf.data pipeline shuffles
            )
            for key, values in fit.history.items():
                history.setdefault(key, []).extend(values)
            if guard.failure is None:
                break
            step, key, value = guard.failure
            last_good = checkpoints.latest_checkpoint(workdir)
            if config.on_nonfinite != "rollback" or rollbacks >= config.max_rollbacks or not last_good:
                raise GanzooError(
                    f"training diverged at step {step}: {key}={value}; last good checkpoint kept: "
                    f"{last_good or 'none'} (--set on_nonfinite=rollback retries from it with a "
                    "lower learning rate)"
                )
            rollbacks += 1
            checkpoints.restore_latest(model, workdir)
            for optimizer in (model.g_optimizer, model.d_optimizer):
                optimizer.learning_rate = float(optimizer.learning_rate) * config.rollback_lr_factor
            logging.warning(
                "non-finite %s=%s at step %d: rolled back to %s (step %d) with learning rates x%g "
                "(rollback %d of %d)", key, value, step, last_good, model.step,
                config.rollback_lr_factor, rollbacks, config.max_rollbacks,
            )
        return TrainResult(model, workdir, model.step, time.time() - began, resumed_from, history)


def _callbacks(config, workdir, total, guard, reference, evaluate_fn, extra):
    evaluator = []
    if config.eval_every:
        evaluator = [ganzoo_callbacks.EvaluateEvery(workdir, config.eval_every, evaluate_fn, guard)]
    return [
        guard,  # first, so nothing after it stores a diverged step
        ganzoo_callbacks.StopAtStep(total),
        ganzoo_callbacks.Checkpointer(workdir, config.checkpoint_every, config.keep_checkpoints, guard),
        ganzoo_callbacks.SampleGrid(
            os.path.join(workdir, "samples"), config.num_samples, config.seed, reference
        ),
        *evaluator,
        ganzoo_callbacks.MetricsLogger(workdir),
        *extra,
    ]
