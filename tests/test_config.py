"""The typed config: files, explicit flags, --set overrides and their errors."""

import glob
import json
import os

import pytest

from ganzoo import compare
from ganzoo.config import TrainConfig, apply_overrides, load_config_file, make_config
from ganzoo.errors import GanzooError

CONFIG_DIR = os.path.join(os.path.dirname(__file__), "..", "configs")


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(CONFIG_DIR, "*.json"))))
def test_shipped_configs_are_valid(path):
    config = load_config_file(path).validate()
    assert config.model in path and config.dataset.split(":")[0] in path


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(CONFIG_DIR, "*.flags"))))
def test_shipped_compare_flag_files_are_valid(path):
    fv = compare.make_flags()
    fv(["compare", f"--flagfile={path}"])
    models = fv["models"].value
    compare.check_request(models, fv["steps"].value, [int(s) for s in fv["seeds"].value],
                          fv["set"].value, fv["minutes"].value)
    _, hyperparameters = compare.split_overrides(models, fv["set"].value)
    assert set(hyperparameters) <= set(models) and fv["workdir"].value.startswith("runs/")
    # The README reruns one variant of a set with `--flagfile=F --models=M`: every
    # --set of the file must then apply to M or be scoped to another model.
    for model in models:
        compare.check_request([model], fv["steps"].value, [0], fv["set"].value, fv["minutes"].value)


def test_compare_refuses_a_bad_hyperparameter_of_one_model_before_any_run():
    with pytest.raises(GanzooError, match=r"bad hyperparameter n_critic=-1"):
        compare.check_request(["vanilla", "wgan_gp"], None, [0], ["wgan_gp:n_critic=-1"], ["5"])


def test_defaults_train_wgan_gp_on_digits():
    config = make_config()
    assert (config.model, config.dataset, config.steps, config.epochs) == ("wgan_gp", "digits", None, None)
    assert config.total_steps(steps_per_epoch=100) == TrainConfig.DEFAULT_STEPS


def test_overrides_parse_by_type():
    config = make_config(
        model="wgan_gp",
        overrides=["batch_size=32", "n_critic=3", "gp_weight=5", "units=64,64", "jit_compile=true"],
    )
    assert config.batch_size == 32 and config.jit_compile is True
    assert config.hparams == {"n_critic": 3, "gp_weight": 5.0, "units": (64, 64)}
    assert isinstance(config.hparams["gp_weight"], float)


def test_jit_compile_is_auto_true_or_false_and_minutes_a_budget():
    assert make_config().jit_compile == "auto"
    assert make_config(overrides=["jit_compile=AUTO"]).jit_compile == "auto"
    assert make_config(overrides=["jit_compile=false"]).jit_compile is False
    config = make_config(minutes=1.5)
    assert (config.minutes, config.time_limit(), config.total_steps(100)) == (1.5, 90.0, None)
    both = make_config(minutes=1.5, steps=10)
    assert (both.time_limit(), both.total_steps(100)) == (90.0, 10)
    # Neither steps, epochs nor minutes: the default run's steps or minutes, whichever first.
    default = make_config()
    assert default.time_limit() == 60 * TrainConfig.DEFAULT_MINUTES
    assert make_config(epochs=2).time_limit() is None


def test_precedence_file_then_flags_then_overrides(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"model": "dcgan", "batch_size": 16, "epochs": 3, "hparams": {"latent_dim": 7}}))
    config = make_config(config_file=str(path), batch_size=8, steps=5, overrides=["batch_size=4"])
    assert (config.model, config.batch_size, config.steps, config.epochs) == ("dcgan", 4, 5, None)
    assert config.hparams == {"latent_dim": 7}


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["colour=red"], "unknown --set key 'colour'; accepted: model, dataset, steps"),
        (["batch_size=0"], "bad batch_size=0; accepted: a positive integer"),
        (["steps=-5"], "bad steps=-5; accepted: a positive integer or unset"),
        (["steps=ten"], "bad value steps='ten'; accepted: an integer"),
        (["n_critic=2.5"], "bad value n_critic='2.5'; accepted: an integer"),
        (["precision=fp8"], "unknown precision 'fp8'; accepted: float32, mixed_bfloat16, mixed_float16"),
        (["jit_compile=maybe"], "bad value jit_compile='maybe'; accepted: auto, true or false"),
        (["minutes=0"], "bad minutes=0.0; accepted: a number > 0 or unset"),
        (["minutes=-1"], "bad minutes=-1.0; accepted: a number > 0 or unset"),
        (["minutes=inf"], "bad minutes=inf; accepted: a number > 0 or unset"),
        (["minutes=soon"], "bad value minutes='soon'; accepted: a number"),
        (["allow_slow_precision=maybe"], "bad value allow_slow_precision='maybe'; accepted: true or false"),
        (["novalue"], "bad override 'novalue'; accepted: key=value"),
        (["model=gan9000"], "unknown model 'gan9000'; accepted: cgan, dcgan, pacgan, r3gan, sngan, vanilla, wgan_gp"),
    ],
)
def test_bad_overrides_are_named(overrides, message):
    with pytest.raises(GanzooError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_config(model="wgan_gp", overrides=overrides)


def test_steps_and_epochs_together_are_refused():
    with pytest.raises(GanzooError, match="both steps=3 and epochs=2"):
        apply_overrides(TrainConfig(), ["steps=3", "epochs=2"]).validate()


def test_hyperparameter_of_another_model_is_refused():
    with pytest.raises(GanzooError, match="unknown --set key 'n_critic'"):
        make_config(model="dcgan", overrides=["n_critic=3"])


@pytest.mark.parametrize(
    "content, message",
    [("{not json", "is not valid JSON"), ('{"modle": "dcgan"}', "unknown key 'modle'"), ("[1]", "JSON object")],
)
def test_bad_config_files(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(GanzooError, match=message):
        make_config(config_file=str(path))


def test_missing_config_file():
    with pytest.raises(GanzooError, match="cannot read config file 'nope.json'"):
        make_config(config_file="nope.json")


def test_preset_auto_starts_from_the_datasets_settings_and_paper_from_the_papers():
    from ganzoo.data import preset_for
    from ganzoo.models import get_model_class

    preset = preset_for("digits", "wgan_gp")
    assert preset and preset["n_critic"] != get_model_class("wgan_gp").default_hyperparameters()["n_critic"]
    assert make_config(model="wgan_gp", dataset="digits").model_hparams() == preset
    assert make_config(model="wgan_gp", dataset="digits", preset="paper").model_hparams() == {}
    assert make_config(model="wgan_gp", dataset="ring8").model_hparams() == {}
    assert make_config(model="dcgan", dataset="digits").model_hparams() == {}
    # A given hyperparameter wins over the preset's, which fills in the rest.
    chosen = make_config(model="wgan_gp", dataset="digits", overrides=["n_critic=3"]).model_hparams()
    assert chosen == {**preset, "n_critic": 3}
    with pytest.raises(GanzooError, match="preset"):
        make_config(model="wgan_gp", preset="fast")


def test_the_papers_settings_file_is_not_changed_by_the_preset():
    config = load_config_file(os.path.join(CONFIG_DIR, "wgan_gp_digits.json")).validate()
    assert config.preset == "paper" and config.model_hparams() == config.hparams
