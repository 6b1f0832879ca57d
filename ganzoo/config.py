"""The typed training config, and parsing of `--config` files and `--set key=value`.

Precedence, lowest first: `TrainConfig` defaults, a `--config` JSON file,
explicit flags, then `--set` overrides. A `--set` key is either a config
field (`batch_size=32`) or a hyperparameter of the chosen model
(`n_critic=3`); anything else is refused with the list of accepted keys.
"""

import dataclasses
import json

from ganzoo.distribute import PRECISIONS, STRATEGIES
from ganzoo.errors import GanzooError, check_choice
from ganzoo.registry import get_model_class, list_models

# Model hyperparameters that come from the data or the config, not from --set.
DERIVED_HYPERPARAMETERS = ("data_shape", "num_classes", "seed")
# Fields a resumed run may change; any other difference means another run.
RESUMABLE_CHANGES = (
    "steps", "epochs", "checkpoint_every", "keep_checkpoints", "eval_every", "eval_samples",
    "on_nonfinite", "rollback_lr_factor", "max_rollbacks",
)


@dataclasses.dataclass
class TrainConfig:
    """Everything one training run depends on.

    Attributes:
        model: a name from `ganzoo.list_models()`.
        dataset: a name `ganzoo.data.load` accepts.
        steps: generator updates to train for, in total (resuming included).
        epochs: alternatively, epochs to train for; an epoch is one pass over
            the training split, or `steps_per_epoch` steps when given.
        batch_size: real examples per discriminator update.
        seed: seeds weights, data order and all training noise.
        data_dir: where TFDS datasets are (or get downloaded to).
        image_size: resize images to this square size.
        split: the dataset split to train on.
        steps_per_epoch: steps between sample grids, logs and checkpoints;
            `None` means one pass over the data but at least 100 steps.
        checkpoint_every: also checkpoint every this many steps (0: only at
            the end of each epoch).
        keep_checkpoints: how many recent checkpoints to keep.
        num_samples: examples in each sample grid.
        precision: `float32`, `mixed_bfloat16` or `mixed_float16`.
        strategy: the `tf.distribute` strategy.
        jit_compile: compile `train_step` with XLA.
        steps_per_execution: train steps per graph call.
        eval_every: evaluate every this many steps (0: never): FID with the
            dataset's default extractor, or the mode metrics for 2-D mixtures.
            The best-scoring weights are kept in `checkpoints/best.keras`.
        eval_samples: samples per evaluation (default: see `ganzoo.evaluate`).
        on_nonfinite: on a NaN or Inf loss, `stop` (with the last good
            checkpoint kept) or `rollback` to it with lower learning rates.
        rollback_lr_factor: learning rates are multiplied by this per rollback.
        max_rollbacks: rollbacks allowed before training stops.
        on_corrupt: unreadable files in a `folder:` dataset: `skip` them
            (counted in the log) or stop with an `error` naming the file.
        hparams: model hyperparameters that override the paper defaults.
    """

    model: str = "wgan_gp"
    dataset: str = "digits"
    steps: int | None = None
    epochs: int | None = None
    batch_size: int = 64
    seed: int = 0
    data_dir: str | None = None
    image_size: int | None = None
    split: str = "train"
    steps_per_epoch: int | None = None
    checkpoint_every: int = 0
    keep_checkpoints: int = 3
    num_samples: int = 64
    precision: str = "float32"
    strategy: str = "default"
    jit_compile: bool = False
    steps_per_execution: int = 1
    eval_every: int = 0
    eval_samples: int | None = None
    on_nonfinite: str = "stop"
    rollback_lr_factor: float = 0.5
    max_rollbacks: int = 3
    on_corrupt: str = "skip"
    hparams: dict = dataclasses.field(default_factory=dict)

    DEFAULT_STEPS = 3000

    def total_steps(self, steps_per_epoch):
        if self.steps is not None:
            return self.steps
        if self.epochs is not None:
            return self.epochs * steps_per_epoch
        return self.DEFAULT_STEPS

    def validate(self):
        """Raise `GanzooError` naming the first invalid value; return self."""
        check_choice("model", self.model, list_models())
        _positive("steps", self.steps, optional=True)
        _positive("epochs", self.epochs, optional=True)
        if self.steps is not None and self.epochs is not None:
            raise GanzooError(
                f"both steps={self.steps} and epochs={self.epochs} given; accepted: one of them"
            )
        _positive("batch_size", self.batch_size)
        _positive("image_size", self.image_size, optional=True)
        _positive("steps_per_epoch", self.steps_per_epoch, optional=True)
        _positive("keep_checkpoints", self.keep_checkpoints)
        _positive("num_samples", self.num_samples)
        _positive("steps_per_execution", self.steps_per_execution)
        if not _is_int(self.seed) or self.seed < 0:
            raise GanzooError(f"bad seed={self.seed!r}; accepted: an integer >= 0")
        _positive("eval_samples", self.eval_samples, optional=True)
        check_choice("on_nonfinite", self.on_nonfinite, ("stop", "rollback"))
        check_choice("on_corrupt", self.on_corrupt, ("skip", "error"))
        if not isinstance(self.rollback_lr_factor, (int, float)) or not 0 < self.rollback_lr_factor < 1:
            raise GanzooError(
                f"bad rollback_lr_factor={self.rollback_lr_factor!r}; accepted: a number in (0, 1)"
            )
        if not _is_int(self.max_rollbacks) or self.max_rollbacks < 0:
            raise GanzooError(f"bad max_rollbacks={self.max_rollbacks!r}; accepted: an integer >= 0")
        if not _is_int(self.eval_every) or self.eval_every < 0:
            raise GanzooError(f"bad eval_every={self.eval_every!r}; accepted: an integer >= 0")
        if not _is_int(self.checkpoint_every) or self.checkpoint_every < 0:
            raise GanzooError(
                f"bad checkpoint_every={self.checkpoint_every!r}; accepted: an integer >= 0"
            )
        if not isinstance(self.dataset, str) or not self.dataset:
            raise GanzooError(f"bad dataset={self.dataset!r}; accepted: a dataset name")
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("strategy", self.strategy, STRATEGIES)
        if not isinstance(self.jit_compile, bool):
            raise GanzooError(f"bad jit_compile={self.jit_compile!r}; accepted: true or false")
        accepted = model_hyperparameters(self.model)
        for key in self.hparams:
            if key not in accepted:
                raise GanzooError(
                    f"unknown hyperparameter {key!r} for model {self.model!r}; "
                    f"accepted: {', '.join(sorted(accepted))}"
                )
        get_model_class(self.model).check_hyperparameters(self.hparams)
        return self

    def to_dict(self):
        return dataclasses.asdict(self)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=list)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _positive(name, value, optional=False):
    if value is None and optional:
        return
    if not _is_int(value) or value < 1:
        accepted = "a positive integer" + (" or unset" if optional else "")
        raise GanzooError(f"bad {name}={value!r}; accepted: {accepted}")


def config_fields():
    return [f.name for f in dataclasses.fields(TrainConfig) if f.name != "hparams"]


def model_hyperparameters(model):
    """{name: default} of the hyperparameters `--set` may change for `model`."""
    defaults = get_model_class(model).default_hyperparameters()
    return {k: v for k, v in defaults.items() if k not in DERIVED_HYPERPARAMETERS}


def parse_value(key, text, like):
    """Parse the string `text` for `key` as the type of `like` (a default or a type)."""
    kind = like if isinstance(like, type) else type(like)
    try:
        if kind is bool:
            lowered = text.strip().lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return lowered in ("true", "1", "yes")
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if kind in (tuple, list):
            items = json.loads(text) if text.strip().startswith("[") else text.split(",")
            return tuple(int(item) for item in items)
        if kind is str:
            return text
        # No type to go by (a default of None): JSON if it parses, else the string.
        try:
            return json.loads(text)
        except ValueError:
            return text
    except (ValueError, TypeError):
        names = {bool: "true or false", int: "an integer", float: "a number",
                 tuple: "comma-separated integers", list: "comma-separated integers"}
        raise GanzooError(f"bad value {key}={text!r}; accepted: {names[kind]}") from None


_FIELD_TYPES = {
    "steps": int, "epochs": int, "batch_size": int, "seed": int, "data_dir": str,
    "image_size": int, "split": str, "steps_per_epoch": int, "checkpoint_every": int,
    "keep_checkpoints": int, "num_samples": int, "precision": str, "strategy": str,
    "jit_compile": bool, "steps_per_execution": int, "model": str, "dataset": str,
    "eval_every": int, "eval_samples": int, "on_nonfinite": str, "rollback_lr_factor": float,
    "max_rollbacks": int, "on_corrupt": str,
}


def apply_overrides(config, overrides):
    """Apply `key=value` strings to a copy of `config`."""
    config = dataclasses.replace(config, hparams=dict(config.hparams))
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise GanzooError(f"bad override {item!r}; accepted: key=value")
        if key in _FIELD_TYPES:
            value = None if text.strip().lower() == "none" else parse_value(key, text, _FIELD_TYPES[key])
            setattr(config, key, value)
            continue
        hyperparameters = model_hyperparameters(check_choice("model", config.model, list_models()))
        if key not in hyperparameters:
            raise GanzooError(
                f"unknown --set key {key!r}; accepted: "
                f"{', '.join(config_fields() + sorted(hyperparameters))}"
            )
        config.hparams[key] = parse_value(key, text, hyperparameters[key])
    return config


def load_config_file(path):
    """A `TrainConfig` from a JSON file of config fields (and an `hparams` dict)."""
    try:
        with open(path) as f:
            values = json.load(f)
    except OSError as e:
        raise GanzooError(f"cannot read config file {path!r}: {e.strerror}") from None
    except ValueError as e:
        raise GanzooError(f"config file {path!r} is not valid JSON: {e}") from None
    if not isinstance(values, dict):
        raise GanzooError(f"config file {path!r} must hold a JSON object")
    return from_dict(values, source=path)


def from_dict(values, source="config"):
    allowed = config_fields() + ["hparams"]
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise GanzooError(
            f"unknown key {unknown[0]!r} in {source}; accepted: {', '.join(allowed)}"
        )
    values = dict(values)
    values["hparams"] = dict(values.get("hparams") or {})
    return TrainConfig(**values)


def make_config(config_file=None, overrides=(), **explicit):
    """Build and validate a config: file, then explicit values, then overrides."""
    config = load_config_file(config_file) if config_file else TrainConfig()
    explicit = {k: v for k, v in explicit.items() if v is not None}
    # An explicit budget replaces the file's, whichever form that took.
    if explicit.get("steps") is not None:
        explicit["epochs"] = None
    elif explicit.get("epochs") is not None:
        explicit["steps"] = None
    unknown = sorted(set(explicit) - set(config_fields()))
    if unknown:
        raise GanzooError(f"unknown config field {unknown[0]!r}; accepted: {', '.join(config_fields())}")
    config = dataclasses.replace(config, **explicit)
    return apply_overrides(config, overrides).validate()
