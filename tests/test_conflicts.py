"""Issue 35: settings that exclude each other are refused in one line that names both
(and what is accepted), before anything is trained, loaded or written; none is
silently ignored."""

import json
import os
import types

import pytest

from ganzoo import compare, evaluate, sample, train
from ganzoo.config import make_config
from ganzoo.errors import GanzooError
from ganzoo.evaluation import scoring

COMPARE = ["--models=vanilla", "--dataset=ring8", "--seeds=0"]

# (command, argv, the two settings the line must name)
CONFLICTS = [
    # train: a budget in steps or in epochs, never both (--steps used to win silently).
    (train, ["--steps=30", "--epochs=1"], ("steps=30", "epochs=1")),
    (train, ["--steps=30", "--set=epochs=1"], ("steps=30", "epochs=1")),
    (train, ["--epochs=1", "--set=steps=30"], ("steps=30", "epochs=1")),
    (train, ["--set=steps=30", "--set=epochs=1"], ("steps=30", "epochs=1")),
    (train, ["--minutes=1", "--strategy=multi_worker"], ("minutes=1.0", "strategy=multi_worker")),
    # evaluate: one generator, and flags that only apply to some of them.
    (evaluate, ["--pretrained=dcgan-digits", "--workdir=RUN"], ("--pretrained", "--workdir")),
    (evaluate, ["--model_path=EXPORT", "--pretrained=dcgan-digits"],
     ("--model_path", "--pretrained")),
    (evaluate, ["--pretrained=dcgan-digits", "--update_metadata"],
     ("--pretrained", "--update_metadata")),
    (evaluate, ["--workdir=RUN", "--update_metadata"], ("--workdir", "--update_metadata")),
    (evaluate, ["--pretrained=dcgan-digits", "--extractor=digits", "--inception_weights=w.h5"],
     ("--inception_weights", "--extractor=digits")),
    # sample: what to draw, and where the generator comes from.
    (sample, ["--pretrained=dcgan-digits", "--latents=z.npy", "--interpolate"],
     ("--latents", "--interpolate")),
    (sample, ["--pretrained=dcgan-digits", "--latents=z.npy", "--num_samples=9"],
     ("--latents", "--num_samples")),
    (sample, ["--pretrained=dcgan-digits", "--latents=z.npy", "--seed=3"], ("--latents", "--seed")),
    (sample, ["--pretrained=dcgan-digits", "--interpolate", "--num_samples=9"],
     ("--interpolate", "--num_samples")),
    (sample, ["--pretrained=dcgan-digits", "--rows=3"], ("--rows", "--interpolate")),
    (sample, ["--pretrained=dcgan-digits", "--frames=3"], ("--frames", "--interpolate")),
    (sample, ["--pretrained=dcgan-digits", "--sha256=ab"], ("--pretrained", "--sha256")),
    (sample, ["--pretrained=dcgan-digits", "--cache_dir=C"], ("--pretrained", "--cache_dir")),
    (sample, ["--model_path=EXPORT", "--pretrained=dcgan-digits"], ("--model_path", "--pretrained")),
    (sample, ["--model_path=EXPORT", "--sha256=ab"], ("--sha256", "--model_path")),
    (sample, ["--model_path=EXPORT", "--cache_dir=C"], ("--cache_dir", "--model_path")),
    (sample, ["--workdir=RUN", "--sha256=ab"], ("--workdir", "--sha256")),
    (sample, ["--workdir=RUN", "--cache_dir=C"], ("--workdir", "--cache_dir")),
    (sample, ["--workdir=RUN", "--pretrained=dcgan-digits"], ("--workdir", "--pretrained")),
    # compare: the protocol's own flags decide what --set and --sweep would fight over
    # (these crashed with a TypeError once the first run started).
    (compare, [*COMPARE, "--set=steps=5"], ("--set steps=5", "--steps")),
    (compare, [*COMPARE, "--set=epochs=2"], ("--set epochs=2", "--steps")),
    (compare, [*COMPARE, "--set=minutes=1"], ("--set minutes=1", "--minutes")),
    (compare, [*COMPARE, "--set=seed=3"], ("--set seed=3", "--seeds")),
    (compare, [*COMPARE, "--set=model=dcgan"], ("--set model=dcgan", "--models")),
    (compare, [*COMPARE, "--set=dataset=digits"], ("--set dataset=digits", "--dataset")),
    (compare, [*COMPARE, "--set=eval_every=5"], ("--set eval_every=5", "--eval_every")),
    (compare, [*COMPARE, "--set=eval_samples=99"], ("--set eval_samples=99", "--eval_samples")),
    (compare, [*COMPARE, "--sweep=seed=1,2"], ("--sweep=seed", "--seeds")),
    (compare, [*COMPARE, "--set=learning_rate=1e-3", "--sweep=learning_rate=1e-4,4e-4"],
     ("--set learning_rate=1e-3", "--sweep=learning_rate")),
    (compare, [*COMPARE, "--set=vanilla:learning_rate=1e-3", "--sweep=learning_rate=1e-4,4e-4"],
     ("--set vanilla:learning_rate=1e-3", "--sweep=learning_rate")),
    (compare, [*COMPARE, "--minutes=1,2", "--steps=5"], ("minutes=1,2", "steps=5")),
]


@pytest.mark.parametrize("command, argv, names", CONFLICTS,
                         ids=[f"{c.__name__.split('.')[-1]}:{' '.join(a)}" for c, a, _ in CONFLICTS])
def test_conflicting_settings_are_refused_in_one_line_naming_both(command, argv, names, tmp_path,
                                                                   capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative names (RUN, EXPORT, C) land here, if anywhere
    if command in (train, compare):
        argv = [*argv, f"--workdir={tmp_path / 'out'}"]
    if command is sample:
        argv = [*argv, f"--out={tmp_path / 'out.png'}"]
    assert command.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert all(name in err[0] for name in names) and "; accepted: " in err[0], err[0]
    assert os.listdir(tmp_path) == []  # nothing trained, loaded into a cache or written


def test_evaluate_refuses_inception_weights_that_auto_would_ignore():
    generator = types.SimpleNamespace(conditional=False)
    with pytest.raises(GanzooError, match=r"^inception_weights given, but 'digits' is scored with "
                                          r"the digits extractor \(extractor=auto\); accepted: "):
        scoring.evaluate(generator, "digits", ["fid"], inception_weights="w.h5")


def test_budgets_that_go_together_are_accepted(tmp_path):
    # minutes with steps or epochs: whichever comes first.
    assert make_config(steps=30, minutes=1.0).steps == 30
    assert make_config(epochs=2, overrides=["minutes=1"]).epochs == 2
    # A budget on the command line replaces the config file's, in whichever form.
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"model": "dcgan", "steps": 3000}))
    config = make_config(config_file=str(path), overrides=["epochs=2"])
    assert (config.steps, config.epochs) == (None, 2)
    config = make_config(config_file=str(path), epochs=2)
    assert (config.steps, config.epochs) == (None, 2)
