"""One name per meaning across the commands and the config, and the old names as
deprecated aliases that still work and say what to use instead (issue 32)."""

import inspect
import json

import pytest

from ganzoo import compare, config, evaluate, export, hub, sample, train
from ganzoo.errors import GanzooError
from ganzoo.models.base import GAN

COMMANDS = {"train": train, "sample": sample, "evaluate": evaluate, "export": export,
            "compare": compare}
# name -> a phrase every command's help for that name holds: its one meaning.
MEANINGS = {
    "num_samples": "number of generated samples",
    "eval_samples": "generated samples scored at each evaluation during training",
    "grid_samples": "sample grid written during training",
    "eval_every": "steps between evaluations during training",
    "out": "output: the",
    "workdir": "run",
    "real_split": "real split",
    "split": "split to train on",
    "dataset": "dataset",
    "data_dir": "where dataset files are",
    "image_size": "square size",
    "seed": "seed",
    "precision": "mixed_bfloat16",
    "model_path": "exported generator",
    "pretrained": "shipped pretrained generator",
    "steps": "generator updates",
    "minutes": "minutes of training wall time",
    "batch_size": "real examples per discriminator update",
    "strategy": "tf.distribute",
    "set": "key=value",
}
# Old name -> new name, in the commands that had the old one.
DEPRECATED = {("sample", "num"): "num_samples", ("evaluate", "split"): "real_split"}
ABSL = {"flagfile", "undefok", "verbose"}


def helps():
    """{command: {flag: help}}, with train's --set keys (config fields) as `train --set`."""
    found = {}
    for name, module in COMMANDS.items():
        fv = module.main.make_flags()
        found[name] = {flag: fv[flag].help for flag in fv
                       if flag not in ABSL and fv[flag].name == flag
                       and not getattr(fv[flag], "replaced_by", None)}
    found["train --set"] = {name: field.metadata["doc"]
                            for name, field in config._fields().items() if name != "hparams"}
    return found


def test_a_shared_option_name_means_the_same_thing_in_every_command():
    table = helps()
    users = {}
    for command, flags in table.items():
        for flag in flags:
            users.setdefault(flag, []).append(command)
    # Every name two commands share is in the table, so a new one gets a meaning too.
    shared = sorted(f for f, who in users.items() if len({w.split()[0] for w in who}) > 1)
    assert not [f for f in shared if f not in MEANINGS], shared
    for flag, meaning in MEANINGS.items():
        assert flag in users, f"{flag} is offered by no command"
        for command in users[flag]:
            assert meaning in table[command][flag].lower(), (command, flag, table[command][flag])


def test_old_names_are_deprecated_aliases_that_say_what_to_use(capsys, tmp_path):
    for (command, old), new in DEPRECATED.items():
        fv = COMMANDS[command].main.make_flags()
        assert fv[old].replaced_by == new and f"use --{new}" in fv[old].help
    assert "num" not in helps()["sample"] and "split" not in helps()["evaluate"]
    # Still works, with one line saying what to use (evaluate --split: tests/test_main.py).
    argv = ["--pretrained=wgan_gp-digits", "--num=4", f"--out={tmp_path / 'x.png'}"]
    assert sample.main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == "warning: --num is deprecated; use --num_samples instead"
    assert captured.out.startswith("wrote 4 samples")
    # The old and new name together: one of them would be dropped, so refused.
    assert sample.main([*argv, "--num_samples=5"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --num and --num_samples given together: --num is the old name of --num_samples; "
        "accepted: --num_samples alone")


def test_config_num_samples_is_now_grid_samples_and_old_files_still_load(tmp_path, capsys):
    # A config.json from before the rename: num_samples was the grid's size.
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model": "dcgan", "num_samples": 16}))
    assert config.load_config_file(str(path)).grid_samples == 16
    with pytest.raises(GanzooError, match="^both num_samples and grid_samples in config: "):
        config.from_dict({"num_samples": 9, "grid_samples": 20})
    assert "num_samples" not in config.TrainConfig().to_dict()
    # --set num_samples=N still sets the grid, and says what to use.
    items = config.renamed_overrides(["num_samples=8", "dcgan:num_samples=4", "seed=1"])
    assert items == ["grid_samples=8", "dcgan:grid_samples=4", "seed=1"]
    assert capsys.readouterr().err.strip().splitlines() == [
        "warning: --set num_samples is deprecated; use --set grid_samples instead"] * 2
    assert config.make_config(overrides=["num_samples=8"]).grid_samples == 8


@pytest.mark.parametrize("sampler", [GAN.sample, hub.Generator.sample])
def test_sample_takes_num_labels_seed_in_that_order_in_the_python_api(sampler):
    names = list(inspect.signature(sampler).parameters)
    assert names[:5] == ["self", "num", "labels", "seed", "batch_size"]
