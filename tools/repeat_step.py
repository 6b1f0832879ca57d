"""Repeat the one-device wgan_gp step of tests/helpers/distributed_step.py and count its results.

The step is the same every run (same weights, data and noise), so more than one
distinct d_loss means TensorFlow computed it differently from run to run. Threads
come from TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS; the flags switch off
parts of Grappler or make ops deterministic. Four processes of 100 runs each
made docs/benchmarks/repeat_step/2026-12-06.log.

    TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=8 python tools/repeat_step.py --runs=100
"""

import argparse
import collections
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "helpers"))
import distributed_step
import tensorflow as tf


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--no_grappler", action="store_true")
    parser.add_argument("--no_remapping", action="store_true")
    parser.add_argument("--op_determinism", action="store_true")
    args = parser.parse_args()
    if args.no_grappler:
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    if args.no_remapping:
        tf.config.optimizer.set_experimental_options({"remapping": False})
    if args.op_determinism:
        tf.config.experimental.enable_op_determinism()
    counts = collections.Counter()
    for run in range(args.runs):
        losses, _ = distributed_step.one_step("wgan_gp", tf.distribute.OneDeviceStrategy("/cpu:0"))
        counts[losses["d_loss"]] += 1
        print(run, losses["d_loss"], losses["gradient_penalty"], flush=True)
    for d_loss, n in counts.most_common():
        print(f"{n:5d} {d_loss!r}")


if __name__ == "__main__":
    main()
