"""`train(config, workdir)`: train a model, checkpointing and resuming exactly.

Training knows nothing of evaluation or export: a caller that wants the
generator scored during training passes `evaluate_fn` (the command
`python -m ganzoo.train` passes `ganzoo.evaluation.scorer_for(config)`).
"""

import contextlib
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
from ganzoo.config import RESUMABLE_CHANGES, TrainConfig, canonical, from_dict
from ganzoo.distribute import check_precision, make_strategy, precision
from ganzoo.errors import GanzooError, first_line, os_reason
from ganzoo.models import create_model, get_model_class
from ganzoo.training import callbacks as ganzoo_callbacks
from ganzoo.training import signals, xla

MIN_STEPS_PER_EPOCH = 100
# What a run decided and spent, beside its checkpoints: the jit_compile=auto choice
# and the training seconds spent up to each checkpointed step.
RUN_STATE = "run_state.json"
# Steps to run for when only `minutes` bounds a run.
UNBOUNDED_STEPS = 10**9


@dataclasses.dataclass
class TrainResult:
    model: keras.Model
    workdir: str
    steps: int
    seconds: float
    resumed_from: str = None
    history: dict = dataclasses.field(default_factory=dict)


# The instability warnings of a run, one JSON line each (`InstabilityMonitor`).
INSTABILITY_FILE = "instability.jsonl"


class TrainingDiverged(GanzooError):
    """Training met a non-finite loss and could not roll back; `step` is where."""

    def __init__(self, message, step):
        super().__init__(message)
        self.step = step


def default_workdir(config):
    dataset = re.sub(r"[^A-Za-z0-9_.-]+", "_", config.dataset.split(":", 1)[-1]).strip("_")
    return os.path.join("runs", f"{config.model}-{dataset or 'data'}")


def build_model(config, info, jit_compile=None):
    """Create and compile `config.model` for data described by `info`
    (with `jit_compile`, or the config's when it is true or false)."""
    hyperparameters = {**config.model_hparams(), "data_shape": info.shape, "seed": config.seed}
    if get_model_class(config.model).conditional:
        if not info.num_classes:
            raise GanzooError(
                f"model {config.model!r} needs labels but dataset {config.dataset!r} has none; "
                "accepted: a labelled dataset (digits, ring8, grid25, mnist, ...)"
            )
        hyperparameters["num_classes"] = config.hparams.get("num_classes") or info.num_classes
    model = create_model(config.model, **hyperparameters)
    if jit_compile is None:
        jit_compile = config.jit_compile is True
    model.compile(jit_compile=jit_compile, steps_per_execution=config.steps_per_execution)
    return model


def read_run_state(workdir):
    """The run's `run_state.json` as a dict ({} if there is none or it is unreadable)."""
    try:
        with open(os.path.join(workdir, RUN_STATE)) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_run_state(workdir, state):
    fileio.atomic_write_json(os.path.join(workdir, RUN_STATE), state, sort_keys=True)


def spent_seconds(state, step):
    """Training seconds spent up to `step`: recorded at its checkpoint, else at
    the latest recorded step before it (0 if none)."""
    recorded = {int(k): float(v) for k, v in state.get("train_seconds", {}).items()}
    earlier = [s for s in recorded if s <= step]
    return recorded[max(earlier)] if earlier else 0.0


def _record_seconds(workdir, state, clock, step, keep):
    """Store the training seconds spent up to `step`, just before its checkpoint."""
    recorded = {int(k): v for k, v in state.get("train_seconds", {}).items() if int(k) < step}
    recorded[step] = round(clock.elapsed(), 3)
    kept = sorted(recorded)[-(keep + 2):]
    state["train_seconds"] = {str(s): recorded[s] for s in kept}
    _write_run_state(workdir, state)


def _device_words():
    return "this GPU" if tf.config.list_physical_devices("GPU") else "this CPU"


def choose_jit_compile(config, strategy, model, batches, state):
    """Whether to train with XLA, set on `model`. For `auto`: the choice stored
    with the run, else measured here (and stored in `state`)."""
    if config.jit_compile != "auto":
        return config.jit_compile
    if strategy.num_replicas_in_sync > 1:
        logging.info("jit_compile=auto: no XLA over %d replicas (each replica's seed state lives "
                     "on another device)", strategy.num_replicas_in_sync)
        return False
    stored = state.get("jit_compile")
    if isinstance(stored, dict) and isinstance(stored.get("xla"), bool):
        use = stored["xla"]
        logging.info("jit_compile=auto: %s XLA, as measured when this run started",
                     "using" if use else "not using")
    else:
        try:
            seconds, functions, timed = xla.measure_xla(model, batches)
        except tf.errors.OpError as e:
            logging.warning("jit_compile=auto: XLA failed to compile this model (%s); not using XLA",
                            str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__)
            seconds, functions, timed = {False: 1.0, True: float("inf")}, {}, 0
        ratio = seconds[False] / seconds[True]
        use = ratio > 1.0
        if timed:
            speed = f"{ratio:.2f}x faster than" if use else f"{ratio:.2f}x as fast as"
            logging.info("jit_compile=auto: XLA %s no XLA on %s (%d timed steps each); %s",
                         speed, _device_words(), timed, "using XLA" if use else "not using XLA")
        state["jit_compile"] = {"xla": use, "ratio": round(ratio, 4), "timed_steps": timed}
        model.train_function = functions.get(use)  # None: fit compiles it
    model.jit_compile = use
    return use


def _read_saved_config(path):
    """The JSON object in a workdir's `config.json`, or None if there is none.

    One that does not parse is refused, never overwritten: it may be the only
    record of what the run's checkpoints were trained with.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        problem = f"cannot be read ({os_reason(e)})"
    else:
        try:
            values = json.loads(raw)
        except ValueError as e:  # bad UTF-8 too
            problem = f"is not valid JSON ({first_line(e)})"
        else:
            if isinstance(values, dict):
                return values
            kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
            problem = f"holds {kind.get(type(values), 'a number')}, not a JSON object"
    raise GanzooError(f"{path} {problem}; accepted: a config.json that `ganzoo.train` wrote (fix "
                      "or delete the file), or another --workdir")


def _check_same_run(config, workdir):
    """Refuse to resume a workdir that holds a different run (or a damaged config.json)."""
    path = os.path.join(workdir, "config.json")
    values = _read_saved_config(path)
    if values is None or not checkpoints.list_checkpoints(workdir):
        return
    saved = from_dict(values, source=path).to_dict()
    current = config.to_dict()
    for key in sorted(current):
        if key not in RESUMABLE_CHANGES and canonical(saved.get(key)) != canonical(current[key]):
            raise GanzooError(
                f"workdir {workdir} holds a run with {key}={saved.get(key)!r}, not {current[key]!r}; "
                "accepted: the same settings to resume (only steps/epochs/minutes/checkpointing "
                "may change), or another --workdir"
            )


def _time_limit(config):
    """Seconds of training allowed, or None. Workers of a cluster would each stop on
    their own clock at different steps (and wait forever on the others), so a
    multi-worker run takes no time budget."""
    if config.strategy != "multi_worker":
        return config.time_limit()
    if config.minutes is not None:
        raise GanzooError(f"minutes={config.minutes} with strategy=multi_worker would stop the "
                          "workers at different steps; accepted: steps or epochs")
    return None


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
    On SIGTERM or SIGINT, the step in flight finishes, is checkpointed, and
    `ganzoo.errors.Interrupted` is raised (see `signals.StopOnSignal`).
    """
    config = config.validate()
    time_limit = _time_limit(config)
    check_precision(config.precision, config.allow_slow_precision, config.strategy)
    if config.eval_every and evaluate_fn is None:
        raise GanzooError(
            f"eval_every={config.eval_every} needs an evaluation; accepted: pass evaluate_fn "
            "(ganzoo.train.train does), or eval_every=0"
        )
    # Multi-worker strategies must exist before any other TensorFlow op runs.
    strategy = make_strategy(config.strategy)
    if config.jit_compile is True and strategy.num_replicas_in_sync > 1:
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
    with (checkpoints.WorkdirLock(workdir), precision(config.precision),
          signals.StopOnSignal() as stop):
        _check_same_run(config, workdir)
        checkpoints.remove_stale_temporaries(workdir)
        fileio.atomic_write(os.path.join(workdir, "config.json"), config.to_json())

        keras.utils.set_random_seed(config.seed)
        dataset, info = data.load(
            config.dataset, split=config.split, seed=config.seed, shuffle=True, repeat=True,
            data_dir=config.data_dir, image_size=config.image_size, on_corrupt=config.on_corrupt,
            num_classes=config.hparams.get("num_classes"),
        )
        preset = config.preset_hparams()
        if preset:
            logging.info("preset=auto: %s's settings for %s: %s (--preset=paper for the paper's)",
                         config.dataset, config.model,
                         ", ".join(f"{k}={v}" for k, v in sorted(preset.items())))
        with strategy.scope():
            model = build_model(config, info, jit_compile=False if config.jit_compile == "auto" else None)
        model.check_batch_size(config.batch_size, strategy.num_replicas_in_sync)
        real_batch = config.batch_size * model.real_batches_per_step
        if info.num_examples < real_batch:
            raise GanzooError(
                f"batch of {real_batch} real examples per step is larger than the "
                f"{info.num_examples} examples of {config.dataset!r}; accepted: a smaller batch_size"
            )
        batches = dataset.batch(real_batch, drop_remainder=True)

        resumed_from = checkpoints.restore_latest(model, workdir)
        if not resumed_from:  # a fresh start: warnings of an earlier attempt do not apply
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(workdir, INSTABILITY_FILE))
        if resumed_from:
            logging.info("resuming from %s at step %d", resumed_from, model.step)
        steps_per_epoch = config.steps_per_epoch or max(
            info.num_examples // real_batch, MIN_STEPS_PER_EPOCH
        )
        total = config.total_steps(steps_per_epoch)
        total = UNBOUNDED_STEPS if total is None else total
        # A fresh run starts a fresh record; a resumed one goes on with its own.
        state = read_run_state(workdir) if resumed_from else {}
        clock = ganzoo_callbacks.TimeBudget(time_limit, spent_seconds(state, model.step))
        if model.step >= total:
            logging.info("already trained for %d steps (asked for %d)", model.step, total)
        elif clock.exhausted():
            logging.info("already trained for %.1f minutes (asked for %g)", clock.elapsed() / 60,
                         clock.limit / 60)
        else:
            choose_jit_compile(config, strategy, model, batches, state)
            _write_run_state(workdir, state)
        # Real examples for scatter plots of points and for the collapse check.
        real_examples = data.load_numpy(
            config.dataset, config.split, max_examples=2000, data_dir=config.data_dir,
            image_size=config.image_size, num_classes=config.hparams.get("num_classes"),
        )[0]
        reference = real_examples if images.draws_points(info.shape) else None
        if verbose is None:
            verbose = 1 if sys.stdout.isatty() else 2
        began, history, rollbacks, checkpointer = time.time(), {}, 0, None
        while model.step < total and not clock.exhausted() and stop.signum is None:
            start = model.step
            guard = ganzoo_callbacks.NonFiniteGuard()
            callbacks = _callbacks(config, workdir, total, guard, clock, state, reference,
                                   real_examples, evaluate_fn, extra_callbacks, stop,
                                   lr_scale=config.rollback_lr_factor**rollbacks)
            checkpointer = next(c for c in callbacks
                                if isinstance(c, ganzoo_callbacks.Checkpointer))
            fit = model.fit(
                # The seeded stream is deterministic: skipping what was consumed makes a
                # resumed run see exactly the batches an uninterrupted one would.
                batches.skip(start).prefetch(tf.data.AUTOTUNE),
                epochs=math.ceil(total / steps_per_epoch),
                initial_epoch=start // steps_per_epoch,
                steps_per_epoch=steps_per_epoch,
                callbacks=callbacks,
                verbose=verbose,
                shuffle=False,  # the tf.data pipeline shuffles
            )
            for key, values in fit.history.items():
                history.setdefault(key, []).extend(values)
            if guard.failure is None:
                if stop.signum is not None:
                    logging.info("%s received: stopped at step %d", stop.name, model.step)
                elif clock.exhausted():
                    logging.info("time budget of %g minutes spent at step %d", clock.limit / 60,
                                 model.step)
                break
            step, key, value = guard.failure
            last_good = checkpoints.latest_checkpoint(workdir)
            if config.on_nonfinite != "rollback" or rollbacks >= config.max_rollbacks or not last_good:
                raise TrainingDiverged(
                    f"training diverged at step {step}: {key}={value}; last good checkpoint kept: "
                    f"{last_good or 'none'} (--set on_nonfinite=rollback retries from it with a "
                    "lower learning rate)", step=step)
            rollbacks += 1
            checkpoints.restore_latest(model, workdir)
            for optimizer in (model.g_optimizer, model.d_optimizer):
                optimizer.learning_rate = float(optimizer.learning_rate) * config.rollback_lr_factor
            logging.warning(
                "non-finite %s=%s at step %d: rolled back to %s (step %d) with learning rates x%g "
                "(rollback %d of %d)", key, value, step, last_good, model.step,
                config.rollback_lr_factor, rollbacks, config.max_rollbacks,
            )
        if stop.signum is not None:
            if checkpointer is not None:
                checkpointer.save()  # the epoch's end saved it already; this only makes sure
            saved = dict(checkpoints.list_checkpoints(workdir)).get(model.step)
            raise stop.interrupted(model.step, saved)
        return TrainResult(model, workdir, model.step, time.time() - began, resumed_from, history)


def _callbacks(config, workdir, total, guard, clock, state, reference, real_examples, evaluate_fn,
               extra, stop, lr_scale=1.0):
    evaluator = []
    if config.eval_every:
        evaluator = [ganzoo_callbacks.EvaluateEvery(workdir, config.eval_every, evaluate_fn, guard,
                                                    clock=clock)]

    def before_save(step):
        _record_seconds(workdir, state, clock, step, config.keep_checkpoints)

    return [
        guard,  # first, so nothing after it stores a diverged step
        ganzoo_callbacks.StopAtStep(total),
        clock,
        *([ganzoo_callbacks.LearningRateDecay(
            config.lr_decay, None if total == UNBOUNDED_STEPS else total, clock, lr_scale)]
          if config.lr_decay != "none" else []),
        ganzoo_callbacks.Checkpointer(workdir, config.checkpoint_every, config.keep_checkpoints, guard,
                                      before_save=before_save, clock=clock),
        ganzoo_callbacks.SampleGrid(
            os.path.join(workdir, "samples"), config.grid_samples, config.seed, reference,
            log_dir=os.path.join(workdir, "logs"),
        ),
        ganzoo_callbacks.InstabilityMonitor(real_examples, seed=config.seed,
                                            record_path=os.path.join(workdir, INSTABILITY_FILE)),
        *evaluator,
        ganzoo_callbacks.MetricsLogger(workdir),
        *extra,
        stop,  # last: a signal during any callback above still stops at this step
    ]
