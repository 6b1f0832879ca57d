"""Score an older ganzoo's model under today's `compare --minutes` protocol.

Issue 12 measures time-to-quality against "today's dcgan defaults at 5 minutes",
run from commit c9c96b3, which had neither `--minutes` nor original-file
datasets. This script trains that commit's code as it was (its model, its
defaults, its training loop), stops each run after the same training wall time
`compare --minutes` gives (the clock starts after the first, traced step), then
scores the samples with today's evaluation, exactly as `compare` scores a run:
as many samples as the test split has, seed 1000 + seed, against the
`--real_split` (train unless told), with the dataset's default extractor.

    git worktree add --detach /tmp/c9c96b3 c9c96b3
    python tools/old_commit_baseline.py --worktree=/tmp/c9c96b3 --model=dcgan \\
        --dataset=fashion_mnist --minutes=5 --seeds=0,1,2 --workdir=runs/baseline-c9c96b3

The old code reads the data from an `.npz` written here from today's loader
(the same uint8 pixels). Output: `results.json` and `results.md` in `--workdir`.
"""

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import numpy as np

from ganzoo import compare, data, evaluation, fileio
from ganzoo.training import cpu

# Runs in a fresh interpreter whose `ganzoo` is the old commit's.
_OLD_RUN = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, sys.argv[1])
    import keras
    import ganzoo
    assert ganzoo.__file__.startswith(sys.argv[1]), ganzoo.__file__
    from ganzoo.config import make_config
    from ganzoo.train import train

    args = json.loads(sys.argv[2])

    class Budget(keras.callbacks.Callback):
        # compare --minutes' clock: starts once the first (traced) step is done.
        began = None

        def on_train_batch_end(self, batch, logs=None):
            if self.began is None:
                self.began = time.monotonic()
            elif time.monotonic() - self.began >= 60 * args["minutes"]:
                self.model.stop_training = True

    budget = Budget()
    config = make_config(model=args["model"], dataset=args["dataset"], steps=10**9,
                         seed=args["seed"])
    result = train(config, args["workdir"], extra_callbacks=[budget])
    seconds = time.monotonic() - budget.began
    samples = result.model.sample(args["num_samples"], seed=args["sample_seed"])
    import numpy as np
    np.savez(args["samples"], x=samples, steps=result.steps, seconds=seconds)
""")


class StoredSamples:
    """Serves samples saved by the old code, as a generator would."""

    conditional = False

    def __init__(self, x):
        self.x = x

    def sample(self, num, labels=None, seed=None):
        return self.x[:num]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worktree", required=True, help="a checkout of the old commit")
    parser.add_argument("--model", default="dcgan")
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--workdir", default="runs/baseline-old")
    parser.add_argument("--real_split", default="train",
                        help="the real split the samples are scored against, as compare's flag")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    os.makedirs(args.workdir, exist_ok=True)
    commit = subprocess.run(["git", "-C", args.worktree, "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()

    x, y, _ = data.load_numpy(args.dataset, "train")
    npz = os.path.join(os.path.abspath(args.workdir), f"{args.dataset}-train.npz")
    if not os.path.exists(npz):
        pixels = np.round((x + 1) * 127.5).clip(0, 255).astype("uint8")
        with fileio.atomic_output(npz) as tmp:
            np.savez(tmp, x=pixels, **({} if y is None else {"y": y}))
    held_out = evaluation.RealSampler(args.dataset, "test")
    num_samples = len(held_out.x)

    runs = []
    for seed in seeds:
        run_dir = os.path.join(os.path.abspath(args.workdir), "runs", f"{args.model}-seed{seed}")
        samples = os.path.join(run_dir, "samples.npz")
        if not os.path.exists(samples):
            request = {"model": args.model, "dataset": f"npz:{npz}", "seed": seed,
                       "minutes": args.minutes, "workdir": run_dir, "samples": samples,
                       "num_samples": num_samples, "sample_seed": 1000 + seed}
            # The old code must not see today's package first on its path.
            env = {**os.environ, "PYTHONPATH": args.worktree}
            jiffies = cpu.read_cpu_jiffies()
            subprocess.run([sys.executable, "-c", _OLD_RUN, os.path.abspath(args.worktree),
                            json.dumps(request)], check=True, env=env, cwd=args.worktree)
            # The old code logs no steal: this spans its whole process (start-up included).
            steal = cpu.steal_fraction(jiffies, cpu.read_cpu_jiffies())
            fileio.atomic_write_json(os.path.join(run_dir, "steal.json"), {"steal": steal})
        steal_path = os.path.join(run_dir, "steal.json")
        steal = None
        if os.path.exists(steal_path):
            with open(steal_path) as f:
                steal = json.load(f)["steal"]
        with np.load(samples) as stored:
            x_fake, steps, seconds = stored["x"], int(stored["steps"]), float(stored["seconds"])
        scored = evaluation.evaluate(StoredSamples(x_fake), args.dataset, num_samples=num_samples,
                                     seed=1000 + seed, real_split=args.real_split)
        runs.append({"model": args.model, "group": f"{args.model} @ {commit[:7]}", "seed": seed,
                     "steps": steps, "train_seconds": round(seconds, 2), "steal": steal,
                     "metrics": scored["metrics"], "stamp": scored["stamp"], "symptoms": []})
        print(f"seed {seed}: {steps} steps in {seconds:.0f} s; fid {scored['metrics']['fid']:.3f}",
              flush=True)

    columns = compare.IMAGE_COLUMNS
    summary = compare.summarize(runs, columns)
    protocol = compare.Protocol(args.dataset, None, tuple(seeds), 0, None, real_split=args.real_split,
                                held_out_split=None, final_samples=num_samples, minutes=args.minutes)
    table = compare.markdown_table(summary, columns, protocol)
    results = {"commit": commit, "protocol": vars(args), "summary": summary, "runs": runs}
    fileio.atomic_write_json(os.path.join(args.workdir, "results.json"), results, default=float)
    fileio.atomic_write(os.path.join(args.workdir, "results.md"), table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
