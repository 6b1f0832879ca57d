"""Train and export ganzoo's pretrained generators into ganzoo/pretrained/.

    python tools/build_pretrained.py                              # the whole zoo
    python tools/build_pretrained.py --only=wgan_gp-digits,cgan-digits
    python tools/build_pretrained.py --steps=50 --out=/tmp/zoo    # a quick dry run

The Fashion-MNIST entries are the seed-0 runs of the time-to-quality comparison
(20 minutes each; training them again here would double the cost), exported
with that run's evaluation:

    python -m ganzoo.compare --flagfile=configs/time_to_quality_fashion_mnist.flags
    python tools/build_pretrained.py --from_compare=runs/time-to-quality-fashion-mnist \
        --only=dcgan-fashion_mnist,cgan-fashion_mnist,...

Each entry of `ZOO` is trained from scratch with `ganzoo.train.train` (the
models' default hyperparameters, seed 0, a fresh workdir under
`--workdir_root`), then exported with `ganzoo.export` to
`<out>/<model>-<dataset>/` together with `samples.png` (a grid made by
`ganzoo.sample`) and `MODEL_CARD.md`; the same facts go into the export's
`assets/ganzoo.json` under `model_card`. Each export replaces the previous one
atomically. `<out>/README.md` shows every model's grid.

Runs are reproducible: a fixed seed seeds the weights, the data order and all
training noise, and TensorFlow's op determinism is on.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

# Running as a script puts tools/ (not the repository root) on sys.path.
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import tensorflow as tf

from ganzoo import checkpoints, hub, sample, savedmodel
from ganzoo.config import make_config
from ganzoo.errors import GanzooError
from ganzoo.fileio import atomic_write
from ganzoo.train import train

SEED = 0
# name: (model, dataset, steps, batch_size). Step budgets give clean samples
# in a few minutes each on 2 CPU cores.
ZOO = {
    "vanilla-digits": ("vanilla", "digits", 5000, 64),
    "dcgan-digits": ("dcgan", "digits", 3000, 64),
    "wgan_gp-digits": ("wgan_gp", "digits", 3000, 64),
    "cgan-digits": ("cgan", "digits", 3000, 64),
    "vanilla-ring8": ("vanilla", "ring8", 3000, 256),
    "wgan_gp-ring8": ("wgan_gp", "ring8", 4000, 256),
}
# name: model; exported from `--from_compare`'s seed-0 run of that model.
FROM_COMPARE = {f"{model}-fashion_mnist": model
                for model in ("vanilla", "dcgan", "wgan_gp", "cgan", "sngan", "r3gan", "pacgan")}
COMPARE_FLAGFILE = "configs/time_to_quality_fashion_mnist.flags"
# What the samples show, where it needs saying.
NOTES = {
    "vanilla-ring8": (
        "The original GAN objective mode-collapses on ring8, the failure this dataset is "
        "made to show: the generator covers one small region at a time and moves between "
        "modes during training instead of covering all eight. Compare wgan_gp-ring8."
    ),
    "vanilla-fashion_mnist": (
        "Low recall: the original GAN objective covers a narrow part of Fashion-MNIST (recall "
        "0.30 after 83,037 steps in 20 minutes on a 2-core AMD EPYC instance that ran dcgan's "
        "step in about 70 ms). Pullovers, T-shirts, dresses, trousers, sneakers, ankle boots "
        "and bags a person names, under speckle noise."
    ),
    "sngan-fashion_mnist": (
        "At the flag file's settings for sngan (Adam 4e-4, betas (0, 0.9), batch 32), with "
        "the paper's spectral normalisation (ganzoo before 3de3a40 used Keras's, and gave "
        "pale blobs). Trained on a 2-core AMD EPYC instance that ran dcgan's step in about "
        "70 ms. Sneakers, sandals, boots, trousers, bags and tops a person names; some tops "
        "smeared."
    ),
    "r3gan-fashion_mnist": (
        "Early in training: R3GAN reached 5,029 steps in 20 minutes on 2 cores (a 2-core "
        "AMD EPYC instance that ran dcgan's step in about 70 ms), a sixteenth of vanilla's "
        "there (83,037). "
        "Trousers, T-shirts, pullovers, dresses, bags and sneakers a person names, blurred "
        "and crossed by stripes."
    ),
    "pacgan-fashion_mnist": (
        "Low recall: PacGAN4's packed MLP discriminator covers every ring8 mode but not "
        "Fashion-MNIST (recall 0.10 after 84,308 steps in 20 minutes on a 2-core AMD EPYC "
        "instance that ran dcgan's step in about 70 ms). Pullovers, trousers, sneakers, ankle "
        "boots, bags and dresses a person names, speckled, among grey blurs."
    ),
}
DEFAULT_OUT = os.path.join(_REPO_ROOT, "ganzoo", "pretrained")
DEFAULT_WORKDIRS = os.path.join(_REPO_ROOT, "runs", "pretrained")


def cpu_model():
    """The CPU's model name from /proc/cpuinfo (or `platform.processor()`)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine():
    """The CPU, core count and platform, and the load when training starts (shared cores)."""
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform(),
            "load_average": round(os.getloadavg()[0], 1)}


def _shown(path):
    """`path` relative to the repository when inside it, else absolute."""
    relative = os.path.relpath(path, _REPO_ROOT)
    return os.path.abspath(path) if relative.startswith("..") else relative


def commands(name, model, dataset, steps, batch_size, workdir, out):
    """The command that builds `name`, and the same run with ganzoo's commands."""
    rel_workdir, rel_out = _shown(workdir), _shown(out)
    build = f"python tools/build_pretrained.py --only={name}"
    if steps != ZOO[name][2]:
        build += f" --steps={steps}"
    if os.path.abspath(out) != os.path.join(DEFAULT_OUT, name):
        build += f" --out={os.path.dirname(rel_out)}"
    train_command = (f"python -m ganzoo.train --model={model} --dataset={dataset} "
                     f"--steps={steps} --batch_size={batch_size} --seed={SEED} "
                     f"--workdir={rel_workdir}")
    return build, [train_command, f"python -m ganzoo.export --workdir={rel_workdir} --out={rel_out}"]


def build(name, out_root, workdir_root, steps=None):
    """Train, export and document one zoo entry; returns its metadata."""
    model, dataset, default_steps, batch_size = ZOO[name]
    steps = steps or default_steps
    config = make_config(model=model, dataset=dataset, steps=steps, batch_size=batch_size,
                         seed=SEED)
    workdir = os.path.join(workdir_root, name)
    out = os.path.join(out_root, name)
    # A fresh run every time: resuming an older workdir would not be the same run.
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"[{name}] training {model} on {dataset} for {steps} steps", flush=True)
    host = machine()
    result = train(config, workdir, verbose=0)
    print(f"[{name}] trained to step {result.steps} in {result.seconds:.0f}s", flush=True)

    command, equivalent = commands(name, model, dataset, steps, batch_size, workdir, out)
    card = {
        "command": command,
        "equivalent_commands": equivalent,
        "training_seconds": round(result.seconds, 1),
        "machine": host,
        "date": datetime.datetime.now(datetime.UTC).date().isoformat(),
        "python": platform.python_version(),
        "seed": SEED,
        "samples": "samples.png",
    }
    if name in NOTES:
        card["notes"] = NOTES[name]
    meta = savedmodel.build_metadata(
        result.model, {"name": name, "train_config": config.to_dict(), "model_card": card})
    _export(result.model, out, meta)
    return savedmodel.read_metadata(out)


def build_from_compare(name, compare_dir, out_root):
    """Export the seed-0 run of `name`'s model in the comparison at `compare_dir`,
    with its training facts and the comparison's evaluation of it; its metadata."""
    model_name = FROM_COMPARE[name]
    run_dir = os.path.join(compare_dir, "runs", f"{model_name}-seed0")
    with open(os.path.join(run_dir, "result.json")) as f:
        result = json.load(f)
    with open(os.path.join(run_dir, "config.json")) as f:
        train_config = json.load(f)
    model, checkpoint = checkpoints.load_latest(run_dir)
    if model.step != result["steps"]:
        raise GanzooError(f"{checkpoint} is at step {model.step}, but the comparison scored step "
                          f"{result['steps']}; accepted: a finished comparison run")
    out = os.path.join(out_root, name)
    extractor = (result.get("stamp") or {}).get("extractor")
    card = {
        # The one run this export comes from: its model, seed 0, and its comparison's workdir.
        "command": (f"python -m ganzoo.compare --flagfile={COMPARE_FLAGFILE} --models={model_name} "
                    f"--seeds=0 --workdir={_shown(compare_dir)}, then python "
                    f"tools/build_pretrained.py --from_compare={_shown(compare_dir)} --only={name}"),
        "equivalent_commands": [
            f"python -m ganzoo.export --workdir={_shown(run_dir)} --out={_shown(out)}"],
        "training_seconds": result["train_seconds"],
        # Not the load average: that of the export's build says nothing of the
        # training, which ran earlier (the result's `steal` says what it lost).
        "machine": {**{k: v for k, v in machine().items() if k != "load_average"},
                    "note": "the machine that built the export, where the comparison ran"},
        "date": datetime.datetime.fromtimestamp(
            os.path.getmtime(os.path.join(run_dir, "result.json")), datetime.UTC).date().isoformat(),
        "python": platform.python_version(),
        "seed": 0,
        "samples": "samples.png",
        "notes": (f"The seed-0 run of `{model_name}` in the time-to-quality comparison: "
                  f"{result['train_seconds'] / 60:.0f} minutes of training, step {result['steps']}."
                  + (f" {NOTES[name]}" if name in NOTES else "")),
    }
    meta = savedmodel.build_metadata(model, {
        "name": name, "train_config": train_config, "model_card": card,
        "evaluation": {f"{train_config['dataset']}/{extractor}": {
            "metrics": result["metrics"], "stamp": result["stamp"]}},
    })
    _export(model, out, meta)
    return savedmodel.read_metadata(out)


def _export(model, out, meta):
    """Write `model`'s generator to `out` with `samples.png` and `MODEL_CARD.md`."""
    with savedmodel.staged_export(out) as staging:
        savedmodel.write_savedmodel(model, staging, meta)
        generator = hub.load_path(staging)
        # 2-D points: enough of them to show the modes in a scatter plot.
        num = 2000 if generator.data_shape == (2,) else 64
        x, _, _, columns = sample.grid_samples(generator, num=num, seed=SEED)
        sample.write_png(generator, x, os.path.join(staging, "samples.png"), columns)
        savedmodel.write_model_card(staging, meta)
    size = sum(f.stat().st_size for f in Path(out).rglob("*") if f.is_file())
    print(f"[{meta['name']}] exported to {out} ({size / 1e6:.2f} MB)", flush=True)


def write_readme(out_root):
    """`<out>/README.md`: a table of the shipped models and their sample grids."""
    lines = [
        "# Pretrained generators",
        "",
        ("Built by `python tools/build_pretrained.py`; load one with `ganzoo.load(NAME)` or "
         "sample with"),
        ("`python -m ganzoo.sample --pretrained=NAME --out=grid.png`. Each directory is a "
         "TensorFlow SavedModel"),
        "with `assets/ganzoo.json` (metadata) and `MODEL_CARD.md`.",
        "",
        "| name | model | dataset | steps | training time | samples |",
        "|---|---|---|---|---|---|",
    ]
    for name in sorted(os.listdir(out_root)):
        path = os.path.join(out_root, name)
        if not os.path.isfile(savedmodel.metadata_path(path)):
            continue
        meta = savedmodel.read_metadata(path)
        card = meta.get("model_card") or {}
        seconds = card.get("training_seconds")
        time_text = f"{seconds / 60:.1f} min" if seconds and seconds >= 60 else (
            f"{seconds:.0f} s" if seconds else "?")
        lines.append(
            f"| [{name}]({name}/MODEL_CARD.md) | {meta['model']} | {meta['dataset']} | "
            f"{meta['steps']} | {time_text} | ![{name}]({name}/samples.png) |"
        )
    return atomic_write(os.path.join(out_root, "README.md"), "\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None,
                        help=f"comma-separated names among {', '.join([*ZOO, *FROM_COMPARE])}")
    parser.add_argument("--from_compare", default=None,
                        help="a finished time-to-quality comparison: build the "
                             f"{', '.join(FROM_COMPARE)} entries from its seed-0 runs")
    parser.add_argument("--out", default=DEFAULT_OUT, help="where the exports go")
    parser.add_argument("--workdir_root", default=DEFAULT_WORKDIRS,
                        help="where the training runs go")
    parser.add_argument("--steps", type=int, default=None,
                        help="override every step budget (for dry runs)")
    args = parser.parse_args(argv)
    known = FROM_COMPARE if args.from_compare else ZOO
    names = [n.strip() for n in (args.only or ",".join(known)).split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"error: unknown zoo entry {unknown[0]!r}; accepted: {', '.join(known)}"
              + ("" if args.from_compare else f", or with --from_compare: {', '.join(FROM_COMPARE)}"),
              file=sys.stderr)
        return 2
    tf.config.experimental.enable_op_determinism()
    began = time.time()
    for name in names:
        if args.from_compare:
            build_from_compare(name, os.path.abspath(args.from_compare), os.path.abspath(args.out))
        else:
            build(name, os.path.abspath(args.out), os.path.abspath(args.workdir_root), args.steps)
    print(f"wrote {write_readme(os.path.abspath(args.out))}; "
          f"{len(names)} model(s) in {time.time() - began:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
