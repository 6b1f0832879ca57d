"""Property-based: random flag values and overrides thrown at the config parser
and the command-line entry points. Invalid input must get a one-line error and
exit code 2, valid input must pass unchanged: no tracebacks, no silent fixes."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganzoo import compare, train
from ganzoo.config import PRECISIONS, STRATEGIES, TrainConfig, make_config
from ganzoo.errors import GanzooError

MODELS = ["vanilla", "dcgan", "wgan_gp", "cgan"]
JUNK = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00\n\r"), max_size=8)


def int_text():
    """Integers (some invalid: 0, negative) written as text, or junk."""
    return st.one_of(st.integers(-3, 300).map(str), JUNK, st.floats(-3, 30).map(str))


def expected_int(text, minimum):
    """What a valid value parses to, or None if it must be refused."""
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value >= minimum and str(value) == text.strip() else None


@st.composite
def train_argv(draw):
    """argv for `ganzoo.train`, and whether every value in it is valid."""
    argv, valid = [], True
    model = draw(st.sampled_from([*MODELS, "gan9", ""]))
    argv.append(f"--model={model}")
    valid &= model in MODELS
    for flag, minimum in (("steps", 1), ("batch_size", 1), ("seed", 0)):
        if draw(st.booleans()):
            text = draw(int_text())
            argv.append(f"--{flag}={text}")
            valid &= expected_int(text, minimum) is not None
    if draw(st.booleans()):
        precision = draw(st.sampled_from([*PRECISIONS, "fp8", "float64"]))
        argv.append(f"--precision={precision}")
        valid &= precision in PRECISIONS
    if draw(st.booleans()):
        strategy = draw(st.sampled_from([*STRATEGIES, "horovod"]))
        argv.append(f"--strategy={strategy}")
        valid &= strategy in STRATEGIES
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(["batch_size", "n_critic", "latent_dim", "gp_weight",
                                    "learning_rate", "eval_every", "colour", "jit_compile"]))
        text = draw(st.one_of(int_text(), st.sampled_from(["true", "false", "auto", "0.5", "1e-4"])))
        argv.append(f"--set={key}={text}")
        valid &= _override_valid(model, key, text)
    return argv, valid


def _override_valid(model, key, text):
    if key in ("batch_size", "latent_dim", "n_critic"):
        if key == "n_critic" and model != "wgan_gp":
            return False
        return expected_int(text, 1) is not None
    if key == "eval_every":
        return expected_int(text, 0) is not None
    if key == "gp_weight":
        return model == "wgan_gp" and _float(text) is not None and _float(text) >= 0
    if key == "learning_rate":
        return _float(text) is not None and 0 < _float(text) < 1
    if key == "jit_compile":
        return text.strip().lower() in ("true", "false", "1", "0", "yes", "no", "auto")
    return False  # "colour" is no key at all


def _float(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@pytest.fixture
def no_training(monkeypatch):
    seen = []

    def fake_train(config, workdir, **kwargs):
        seen.append(config)
        return train.TrainResult(None, workdir, 0, 0.0)

    monkeypatch.setattr(train, "train", fake_train)
    return seen


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=train_argv())
def test_train_cli_refuses_exactly_the_invalid_input(case, no_training, capsys, tmp_path):
    argv, valid = case
    code = train.main([*argv, f"--workdir={tmp_path}"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    if valid:
        assert code == 0, (argv, err)
        config = no_training[-1]
        given = {}  # the value each field ends with: flags, then --set (later wins)
        for item in argv:
            flag, _, text = item.lstrip("-").partition("=")
            if flag == "set":
                flag, _, text = text.partition("=")
            if flag in ("steps", "batch_size", "seed"):
                given[flag] = int(text)
        for flag, value in given.items():
            assert getattr(config, flag) == value  # taken as given, never coerced
    else:
        assert code == 2, (argv, out)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), lines


@settings(max_examples=150, deadline=None)
@given(values=st.dictionaries(
    st.sampled_from(["steps", "epochs", "batch_size", "seed", "keep_checkpoints", "eval_every",
                     "checkpoint_every", "grid_samples", "precision", "strategy", "on_nonfinite",
                     "rollback_lr_factor", "max_rollbacks", "jit_compile"]),
    st.one_of(st.integers(-5, 50), st.floats(-2, 2), st.booleans(), st.none(), JUNK), max_size=5))
def test_config_validate_never_crashes_and_rejects_with_a_named_value(values):
    config = TrainConfig(**values)
    try:
        config.validate()
    except GanzooError as e:
        message = str(e)
        assert "\n" not in message and ("accepted" in message)
        assert any(key in message for key in values) or "both steps" in message
    else:
        for key, value in values.items():
            if key in ("steps", "epochs"):
                assert value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)
            if key == "batch_size":
                assert isinstance(value, int) and not isinstance(value, bool) and value >= 1


@settings(max_examples=100, deadline=None)
@given(items=st.lists(st.tuples(st.sampled_from(["n_critic", "latent_dim", "units", "batch_size",
                                                  "beta_2", "base_filters", "dropout"]), JUNK),
                      max_size=3))
def test_overrides_parse_or_refuse(items):
    overrides = [f"{k}={v}" for k, v in items]
    try:
        config = make_config(model="wgan_gp", overrides=overrides)
    except GanzooError as e:
        assert "\n" not in str(e)
    else:
        assert config.validate() is config


class ReachedCompare(Exception):
    pass


def _stop_at_compare(*args, **kwargs):
    raise ReachedCompare("valid input reached compare()")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(models=st.lists(st.sampled_from([*MODELS, "nope"]), min_size=1, max_size=3),
       seeds=st.lists(st.one_of(st.integers(0, 5).map(str), JUNK), min_size=1, max_size=3),
       steps=int_text())
def test_compare_cli_refuses_bad_input_in_one_line(models, seeds, steps, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(compare, "compare", _stop_at_compare)
    argv = [f"--models={','.join(models)}", f"--steps={steps}", f"--workdir={tmp_path}",
            f"--seeds={','.join(seeds)}"]
    code = compare.main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "Traceback" not in err and len(lines) == 1
    seeds_valid = all(expected_int(s, 0) is not None for s in seeds) and "" not in seeds
    # Repeated models or seeds would run duplicates: refused too.
    seeds_valid = seeds_valid and len({expected_int(s, 0) for s in seeds}) == len(seeds)
    valid = ("nope" not in models and len(set(models)) == len(models)
             and expected_int(steps, 1) is not None and seeds_valid)
    if valid:
        assert code == 1 and "ReachedCompare" in lines[0]
    else:
        assert code == 2 and lines[0].startswith("error: ")
