"""Train a ganzoo model: `ganzoo train --model=wgan_gp` (or `python -m ganzoo.train`).

`main` only parses flags into a `TrainConfig` and calls `train(config,
workdir)`, which composes training with evaluation (for `eval_every`).
Running the same command again resumes from the workdir's last checkpoint.
Every config field is also a `--set` key: `--set=help` lists them with the
chosen model's hyperparameters.
"""

import sys

from absl import flags

from ganzoo import cli, config, evaluation, training
from ganzoo.errors import GanzooError
from ganzoo.training import TrainResult

__all__ = ["GanzooError", "TrainResult", "main", "train"]


def train(config, workdir, **kwargs):
    """`ganzoo.training.train`, scoring the model every `eval_every` steps."""
    evaluate_fn = evaluation.scorer_for(config) if config.eval_every else None
    return training.train(config, workdir, evaluate_fn=evaluate_fn, **kwargs)


def make_flags():
    fv = cli.new_flags()
    config.define_flags(fv)
    flags.DEFINE_string("workdir", None, "The training run directory to write, or to resume "
                        "(default runs/<model>-<dataset>).", flag_values=fv)
    flags.DEFINE_string("config", None, "A JSON config file, e.g. configs/wgan_gp_digits.json.",
                        flag_values=fv)
    flags.DEFINE_multi_string("set", [], "key=value override of a config field or model "
                              "hyperparameter; repeatable; --set=help lists them.", flag_values=fv)
    return fv


def config_from_flags(fv):
    return config.make_config(config_file=fv["config"].value,
                              overrides=config.renamed_overrides(fv["set"].value),
                              **config.flag_values_of(fv))


def _run(fv):
    if "help" in fv["set"].value:
        print(config.describe_settings(fv["model"].value))
        return
    train_config = config_from_flags(fv)
    workdir = fv["workdir"].value or training.default_workdir(train_config)
    result = train(train_config, workdir)
    print(f"trained {train_config.model} on {train_config.dataset} to step {result.steps} "
          f"in {result.seconds:.0f}s; workdir: {result.workdir}")


main = cli.command(make_flags, _run, "python -m ganzoo.train")


if __name__ == "__main__":
    sys.exit(main())
