"""The typed training config, and parsing of `--config` files and `--set key=value`.

Every field is declared once, with its type, default, rule and doc; `validate`,
`--set` parsing, the commands' flags (`define_flags`) and their help all read
that declaration.

Precedence, lowest first: `TrainConfig` defaults, a `--config` JSON file,
explicit flags, then `--set` overrides. A `--set` key is either a config
field (`batch_size=32`) or a hyperparameter of the chosen model
(`n_critic=3`); anything else is refused with the list of accepted keys.
"""

import dataclasses
import json
import sys
import types
import typing

from absl import flags

from ganzoo import checks
from ganzoo.data import preset_for
from ganzoo.data.pixels import MAX_IMAGE_SIZE
from ganzoo.distribute import PRECISIONS, STRATEGIES
from ganzoo.errors import GanzooError, check_choice
from ganzoo.models import get_model_class, list_models

# Model hyperparameters that come from the data or the config, not from --set.
# (`num_classes` comes from the labels too, unless --set declares sparse ones.)
DERIVED_HYPERPARAMETERS = ("data_shape", "seed")


def setting(default, rule, doc, *, flag=False, resumable=False, parse=None):
    """A config field: its default, the rule its values obey and one line of doc.

    `flag`: `train` and `compare` offer it as `--NAME`; `resumable`: a resumed
    run may change it (anything else means another run); `parse(key, text)`:
    how `--set` reads it, where its type alone does not say.
    """
    metadata = {"rule": rule, "doc": doc, "flag": flag, "resumable": resumable, "parse": parse}
    return dataclasses.field(default=default, metadata=metadata)


_unset = "or unset"


def _parse_auto_or_bool(key, text):
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return parse_value(key, text, bool)
    except GanzooError:
        raise GanzooError(f"bad value {key}={text!r}; accepted: {checks.auto_or_boolean.accepted}") from None


@dataclasses.dataclass
class TrainConfig:
    """Everything one training run depends on (see `python -m ganzoo.train --help`)."""

    model: str = setting("wgan_gp", checks.Choice("model", list_models),
                         "a name from ganzoo.list_models()", flag=True)
    dataset: str = setting("digits", checks.name, "the dataset to train on: digits, ring8, grid25, "
                           "mnist, fashion_mnist, kmnist, cifar10, cifar100, folder:PATH, npz:PATH "
                           "or a TFDS name", flag=True)
    steps: int | None = setting(None, checks.positive_int.or_none(_unset),
                                "generator updates to train for, in total (resuming included)",
                                flag=True, resumable=True)
    epochs: int | None = setting(None, checks.positive_int.or_none(_unset),
                                 "epochs to train for (instead of steps)", flag=True, resumable=True)
    minutes: float | None = setting(
        None, checks.number_in(0, closed=(False, True)).or_none(_unset),
        "minutes of training wall time, in total (resuming included); with steps or epochs: "
        "whichever comes first (none of the three: 3000 steps or 2 minutes)", flag=True,
        resumable=True)
    batch_size: int = setting(64, checks.positive_int, "real examples per discriminator update",
                              flag=True)
    seed: int = setting(0, checks.non_negative_int,
                        "seeds weights, data order and all training noise", flag=True)
    data_dir: str | None = setting(None, checks.text.or_none(_unset),
                                   "where dataset files are (TFDS downloads there)", flag=True)
    image_size: int | None = setting(None, checks.int_from_to(1, MAX_IMAGE_SIZE).or_none(_unset),
                                     "resize images to this square size", flag=True)
    split: str = setting("train", checks.name, "the dataset split to train on")
    steps_per_epoch: int | None = setting(
        None, checks.positive_int.or_none(_unset),
        "steps between sample grids, logs and checkpoints (unset: one pass, >= 100 steps)")
    checkpoint_every: int = setting(0, checks.non_negative_int,
                                    "also checkpoint every this many steps (0: at epoch ends)",
                                    resumable=True)
    keep_checkpoints: int = setting(3, checks.positive_int, "how many recent checkpoints to keep",
                                    resumable=True)
    grid_samples: int = setting(64, checks.positive_int,
                                "examples in each sample grid written during training")
    precision: str = setting("float32", checks.Choice("precision", PRECISIONS),
                             "float32, mixed_bfloat16 or mixed_float16", flag=True)
    strategy: str = setting("default", checks.Choice("strategy", STRATEGIES),
                            "the tf.distribute strategy: default, mirrored, multi_worker or tpu",
                            flag=True)
    allow_slow_precision: bool = setting(
        False, checks.boolean, "accept a precision this machine runs slower than float32",
        resumable=True)
    jit_compile: bool | str = setting(
        "auto", checks.auto_or_boolean, "compile train_step with XLA (auto: time a few steps "
        "with and without it at start-up, keep the faster)", parse=_parse_auto_or_bool)
    steps_per_execution: int = setting(1, checks.positive_int, "train steps per graph call")
    lr_decay: str = setting("none", checks.Choice("lr_decay", ("none", "linear", "cosine")),
                            "decay both learning rates to 0 over the run's budget (its steps, or "
                            "its minutes): none, linear or cosine")
    eval_every: int = setting(0, checks.non_negative_int,
                              "steps between evaluations during training (0: never); keeps "
                              "best.keras", resumable=True)
    eval_samples: int | None = setting(None, checks.positive_int.or_none(_unset),
                                       "generated samples scored at each evaluation during "
                                       "training (unset: as many as the real examples)",
                                       resumable=True)
    on_nonfinite: str = setting("stop", checks.Choice("on_nonfinite", ("stop", "rollback")),
                                "on a NaN/Inf loss: stop, or rollback to the last checkpoint "
                                "with lower learning rates", resumable=True)
    rollback_lr_factor: float = setting(0.5, checks.number_in(0, 1, closed=(False, False)),
                                        "learning rates are multiplied by this per rollback",
                                        resumable=True)
    max_rollbacks: int = setting(3, checks.non_negative_int,
                                 "rollbacks allowed before training stops", resumable=True)
    on_corrupt: str = setting("skip", checks.Choice("on_corrupt", ("skip", "error")),
                              "unreadable files in a folder: dataset: skip them or stop")
    preset: str = setting(
        "auto", checks.Choice("preset", ("auto", "paper")),
        "auto: start from the dataset's registered settings for the model where it has "
        "them (digits: wgan_gp with one critic update per step); paper: from the paper's",
        flag=True)
    hparams: dict = dataclasses.field(default_factory=dict, metadata={
        "rule": checks.Rule(lambda v: isinstance(v, dict), "a dict"), "flag": False,
        "resumable": False, "parse": None,
        "doc": "model hyperparameters that override the paper defaults"})

    DEFAULT_STEPS = 3000
    # With no budget given at all: DEFAULT_STEPS or this, whichever comes first, so the
    # quickstart's first command ends within 3 minutes on a slow 2-core machine too.
    DEFAULT_MINUTES = 2.0

    def total_steps(self, steps_per_epoch):
        """The steps to train for; None when only `minutes` bounds the run."""
        if self.steps is not None:
            return self.steps
        if self.epochs is not None:
            return self.epochs * steps_per_epoch
        if self.minutes is not None:
            return None
        return self.DEFAULT_STEPS

    def time_limit(self):
        """Seconds of training wall time allowed in total, or None for no limit."""
        if self.minutes is not None:
            return 60.0 * self.minutes
        if self.steps is None and self.epochs is None:
            return 60.0 * self.DEFAULT_MINUTES
        return None

    def preset_hparams(self):
        """The dataset's registered settings for the model (`preset=auto`), or {}."""
        if self.preset != "auto":
            return {}
        return {k: v for k, v in preset_for(self.dataset, self.model).items() if k not in self.hparams}

    def model_hparams(self):
        """The hyperparameters the model is built with: the preset's, then `hparams`."""
        return {**self.preset_hparams(), **self.hparams}

    def validate(self):
        """Raise `GanzooError` naming the first invalid value; return self."""
        for field in dataclasses.fields(self):
            field.metadata["rule"].check(field.name, getattr(self, field.name))
        if self.steps is not None and self.epochs is not None:
            raise GanzooError(
                f"both steps={self.steps} and epochs={self.epochs} given; accepted: one of them "
                "(minutes may go with either: whichever comes first)"
            )
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


# Config keys renamed, old -> new: `--set OLD=...` still works (with a warning), and a
# config.json written before the rename still loads. `num_samples` is now what every
# command's `--num_samples` means: how many samples to generate or score.
RENAMED_FIELDS = {"num_samples": "grid_samples"}


def renamed_overrides(overrides):
    """`--set` items with renamed keys under their new names (`MODEL:key` too), one
    warning line on stderr for each old one: what a command calls once on its input."""
    items = []
    for item in overrides:
        key, sep, text = item.partition("=")
        only, colon, name = key.strip().rpartition(":")
        if name in RENAMED_FIELDS:
            new = RENAMED_FIELDS[name]
            print(f"warning: --set {name} is deprecated; use --set {new} instead",
                  file=sys.stderr)
            item = f"{only}{colon}{new}{sep}{text}"
        items.append(item)
    return items


def _fields():
    return {f.name: f for f in dataclasses.fields(TrainConfig)}


def _field_type(name):
    """The field's value type: `int` for `int | None`."""
    kind = typing.get_type_hints(TrainConfig)[name]
    if isinstance(kind, types.UnionType):
        kind = next(k for k in kind.__args__ if k is not type(None))
    return kind


def check_field(name, value):
    """`value`, or a `GanzooError` if config field `name`'s rule refuses it."""
    return _fields()[name].metadata["rule"].check(name, value)


def config_fields():
    return [name for name in _fields() if name != "hparams"]


RESUMABLE_CHANGES = tuple(name for name, f in _fields().items() if f.metadata["resumable"])


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


def parse_override(item):
    """`"key=value"` -> `("key", "value")`, refusing anything else."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise GanzooError(f"bad override {item!r}; accepted: key=value")
    return key, text


def parse_field(key, text):
    """The typed value of config field `key` written as `text` ("none" unsets it)."""
    if text.strip().lower() == "none":
        return None
    parse = _fields()[key].metadata["parse"]
    return parse(key, text) if parse else parse_value(key, text, _field_type(key))


def parse_overrides(model, overrides):
    """`key=value` strings -> `(config fields, hyperparameters of model)`, both typed."""
    fields, hparams = {}, {}
    for item in overrides:
        key, text = parse_override(item)
        key = RENAMED_FIELDS.get(key, key)
        if key in config_fields():
            fields[key] = parse_field(key, text)
            continue
        hyperparameters = model_hyperparameters(check_choice("model", model, list_models()))
        if key not in hyperparameters:
            raise GanzooError(
                f"unknown --set key {key!r}; accepted: "
                f"{', '.join(config_fields() + sorted(hyperparameters))}"
            )
        declared = get_model_class(model).hyperparameters()[key]
        if declared.kind is not None and text.strip().lower() == "none":
            hparams[key] = None
        else:
            hparams[key] = parse_value(key, text, declared.kind or hyperparameters[key])
    return fields, hparams


def apply_overrides(config, overrides):
    """Apply `key=value` strings to a copy of `config`."""
    config = dataclasses.replace(config, hparams=dict(config.hparams))
    for item in overrides:
        # One at a time: `model=...` changes which hyperparameters later items may name.
        fields, hparams = parse_overrides(config.model, [item])
        config = dataclasses.replace(config, **fields)
        config.hparams.update(hparams)
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


def canonical(value):
    """A config value as comparable text: two settings are the same run's iff equal."""
    return json.dumps(value, sort_keys=True, default=list)


def from_dict(values, source="config"):
    allowed = config_fields() + ["hparams"]
    # Files that older versions wrote (a run's config.json) load under the new names.
    for old, new in RENAMED_FIELDS.items():
        if old in values and new in values:
            raise GanzooError(f"both {old} and {new} in {source}: {old} is the old name of "
                              f"{new}; accepted: {new} alone")
        if old in values:
            values = {(new if k == old else k): v for k, v in values.items()}
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise GanzooError(
            f"unknown key {unknown[0]!r} in {source}; accepted: {', '.join(allowed)}"
        )
    values = dict(values)
    values["hparams"] = dict(values.get("hparams") or {})
    return TrainConfig(**values)


def make_config(config_file=None, overrides=(), hparams=None, **explicit):
    """Build and validate a config: file, then explicit values, then overrides.

    `explicit` holds typed config fields (None: not given); `hparams` typed
    hyperparameters; `overrides` `key=value` strings, as `--set` gives them.
    """
    config = load_config_file(config_file) if config_file else TrainConfig()
    explicit = {k: v for k, v in explicit.items() if v is not None}
    # A budget given here (a flag or --set) replaces the file's, whichever form that
    # took; steps and epochs both given here are refused by `validate`, never one
    # silently dropped.
    given = set(explicit) | {parse_override(item)[0] for item in overrides}
    if given & {"steps", "epochs"}:
        config = dataclasses.replace(config, steps=None, epochs=None)
    unknown = sorted(set(explicit) - set(config_fields()))
    if unknown:
        raise GanzooError(f"unknown config field {unknown[0]!r}; accepted: {', '.join(config_fields())}")
    # A bad flag is refused even when a later --set replaces it: it is still bad input.
    for name, value in explicit.items():
        check_field(name, value)
    config = dataclasses.replace(config, **explicit, hparams={**config.hparams, **(hparams or {})})
    return apply_overrides(config, overrides).validate()


# -- command-line flags, generated from the fields ---------------------------------

_DEFINE = {int: flags.DEFINE_integer, float: flags.DEFINE_float, bool: flags.DEFINE_bool,
           str: flags.DEFINE_string}


def flag_fields():
    """The fields that `train` and `compare` offer as flags."""
    return [name for name, f in _fields().items() if f.metadata["flag"]]


def define_flags(flag_values, names=None):
    """Define `--NAME` (default unset) for each config field in `names`."""
    for name in names or flag_fields():
        field = _fields()[name]
        _DEFINE[_field_type(name)](
            name, None, f"{field.metadata['doc']} (default: {field.default}).",
            flag_values=flag_values,
        )


def flag_values_of(flag_values, names=None):
    """{field: typed value} of the field flags given on the command line."""
    return {name: flag_values[name].value for name in names or flag_fields()}


def describe_settings(model=None):
    """Every `--set` key with its default and what it accepts, one per line."""
    lines = ["config fields (--set NAME=VALUE):"]
    for name, field in _fields().items():
        if name != "hparams":
            lines.append(f"  {name}={field.default!r}: {field.metadata['doc']}; "
                         f"accepted: {field.metadata['rule'].accepted}")
    for name in [model] if model else list_models():
        lines.append(f"{name} hyperparameters (--set NAME=VALUE):")
        for key, hp in get_model_class(name).hyperparameters().items():
            if key not in DERIVED_HYPERPARAMETERS:
                lines.append(f"  {key}={hp.default!r}: {hp.doc}; accepted: {hp.rule.accepted}")
    return "\n".join(lines)
