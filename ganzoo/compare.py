"""Compare variants on one dataset under one protocol: `python -m ganzoo.compare`.

    python -m ganzoo.compare --models=vanilla,dcgan,wgan_gp,cgan --dataset=digits \\
        --steps=3000 --seeds=0,1,2 --workdir=runs/compare-digits

Every run gets the same data and split, the same budget of generator updates
(or, with `--minutes`, the same training wall time: the fair budget between a
variant with one critic step and one with five; the tables show the steps each
run reached), the same seeds and the same evaluation (extractor, sample counts, metrics);
each model keeps its paper defaults unless `--set` overrides them. Finished
runs are skipped and an interrupted run resumes, so the command can simply be
run again. Output in the workdir: `results.json` (every run, its stamp and its
curve), `results.md` (mean ± std over seeds per model) and PNG figures (each
metric against training step with a band over seeds, and samples side by side).
"""

import csv
import dataclasses
import json
import os
import sys
import time

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from absl import flags, logging

from ganzoo import checks, cli, config, data, distribute, evaluation, fileio, images, training
from ganzoo.errors import GanzooError
from ganzoo.models import get_model_class, list_models

matplotlib.use("Agg")  # figures are files; no display is needed

# Metrics reported per dataset kind, in table order; lower-is-better ones marked.
IMAGE_COLUMNS = ["fid", "kid", "is", "precision", "recall", "density", "coverage", "acc", "intra_fid"]
POINT_COLUMNS = ["modes_covered", "high_quality", "reverse_kl"]
LOWER_IS_BETTER = {"fid", "kid", "intra_fid", "reverse_kl"}
# Config fields every run shares, offered as flags.
RUN_FLAGS = ("batch_size", "precision", "strategy", "data_dir", "image_size")
# Generator updates per run when neither --steps nor --minutes is given.
DEFAULT_STEPS = 3000


@dataclasses.dataclass
class Protocol:
    """What every run of a comparison shares."""

    dataset: str
    steps: int | None
    seeds: tuple
    eval_every: int
    eval_samples: int | None
    real_split: str = "train"
    extractor: str = "auto"
    overrides: tuple = ()
    # Samples in each run's final evaluation: as many as the held-out split has,
    # so runs score on the same footing as the real held-out baseline.
    final_samples: int | None = None
    # Minutes of training wall time per run (None: steps alone bound a run).
    minutes: float | None = None


def _run_name(model, seed):
    return f"{model}-seed{seed}"


def split_overrides(models, overrides, skip_foreign=False):
    """`--set` strings -> typed `(config fields, {model: hyperparameters})`.

    A config field applies to every run, a hyperparameter to the models that
    have it; a key that applies to none of `models` is refused (or skipped).
    """
    fields, hparams = {}, {model: {} for model in models}
    for item in overrides:
        key, _ = config.parse_override(item)
        if key in config.config_fields():
            fields.update(config.parse_overrides(models[0], [item])[0])
            continue
        takers = [m for m in models if key in config.model_hyperparameters(m)]
        if not takers and skip_foreign:
            continue
        if not takers:
            raise GanzooError(
                f"--set {key} applies to none of {', '.join(models)}; accepted: a config field "
                "or a hyperparameter of one of the models"
            )
        for model in takers:
            hparams[model].update(config.parse_overrides(model, [item])[1])
    return fields, hparams


def _read_curve(run_dir):
    path = os.path.join(run_dir, "evaluations.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    # A resumed run re-evaluates its starting step: keep the last entry per step.
    by_step = {row["step"]: row["metrics"] for row in rows}
    return [{"step": step, **{k: v for k, v in by_step[step].items() if isinstance(v, (int, float))}}
            for step in sorted(by_step)]


def _train_seconds(run_dir):
    """Wall time of training, summed over resumed segments, from metrics.csv."""
    path = os.path.join(run_dir, "metrics.csv")
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        return round(sum(float(row["seconds"]) for row in csv.DictReader(f)), 2)


def run_one(model, seed, protocol, workdir, hparams=None, **config_fields):
    """Train (or resume) one run and evaluate it; the run's result dict.

    `hparams` and `config_fields` are typed values (see `split_overrides`);
    without `hparams`, the protocol's `--set` items that apply to `model` are used.
    """
    if hparams is None:
        fields, by_model = split_overrides([model], protocol.overrides, skip_foreign=True)
        hparams, config_fields = by_model[model], {**config_fields, **fields}
    run_dir = os.path.join(workdir, "runs", _run_name(model, seed))
    result_path = os.path.join(run_dir, "result.json")
    if os.path.exists(result_path):
        with open(result_path) as f:
            return json.load(f)
    run_config = config.make_config(
        model=model, dataset=protocol.dataset, steps=protocol.steps, minutes=protocol.minutes,
        seed=seed, eval_every=protocol.eval_every, eval_samples=protocol.eval_samples, hparams=hparams,
        **config_fields,
    )
    outcome = training.train(run_config, run_dir, evaluate_fn=evaluation.scorer_for(run_config))
    final = evaluation.evaluate(
        outcome.model, protocol.dataset, extractor=protocol.extractor, real_split=protocol.real_split,
        num_samples=protocol.final_samples, seed=1000 + seed, data_dir=run_config.data_dir,
        image_size=run_config.image_size,
    )
    result = {
        "model": model, "seed": seed, "steps": outcome.steps, "train_seconds": _train_seconds(run_dir),
        "config": run_config.to_dict(), "metrics": final["metrics"], "stamp": final["stamp"],
        "curve": _read_curve(run_dir),
    }
    images.save_samples(_grid_samples(outcome.model), os.path.join(run_dir, "final_samples.png"),
                        reference=_reference(protocol.dataset, outcome.model))
    fileio.atomic_write_json(result_path, result, default=float)
    return result


def _grid_samples(model):
    if model.data_shape == (2,):
        labels = np.arange(2000) % model.num_classes if model.conditional else None
        return model.sample(2000, labels=labels, seed=0)
    labels = np.arange(64) % model.num_classes if model.conditional else None
    return model.sample(64, labels=labels, seed=0)


def _reference(dataset, model):
    if model.data_shape != (2,):
        return None
    return data.load_numpy(dataset, "train", max_examples=2000)[0]


def summarize(runs, columns):
    """{model: {metric: (mean, std, n)}, ...} over seeds, plus steps and train seconds."""
    summary = {}
    for model in dict.fromkeys(r["model"] for r in runs):
        mine = [r for r in runs if r["model"] == model]
        row = {}
        for column in columns + ["steps", "train_seconds"]:
            values = [r.get(column) if column in ("steps", "train_seconds") else r["metrics"].get(column)
                      for r in mine]
            values = [float(v) for v in values if v is not None]
            if values:
                row[column] = (float(np.mean(values)), float(np.std(values)), len(values))
        summary[model] = row
    return summary


def markdown_table(summary, columns, protocol):
    present = [c for c in columns if any(c in row for row in summary.values())]
    arrow = {c: " ↓" if c in LOWER_IS_BETTER else " ↑" for c in present}
    head = ("| model | " + " | ".join(f"{c}{arrow[c]}" for c in present)
            + " | steps reached | train time / run |")
    lines = [head, "|" + "---|" * (len(present) + 3)]
    for model, row in summary.items():
        cells = []
        for c in present:
            if c in row:
                mean, std, _ = row[c]
                cells.append(f"{mean:.3f} ± {std:.3f}" if abs(mean) < 100 else f"{mean:.1f} ± {std:.1f}")
            else:
                cells.append("–")
        steps, seconds = row.get("steps"), row.get("train_seconds")
        cells.append((f"{steps[0]:.0f}" + (f" ± {steps[1]:.0f}" if steps[1] else "")) if steps else "–")
        cells.append(f"{seconds[0]:.0f} s" if seconds else "–")
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    seeds = ",".join(map(str, protocol.seeds))
    lines.append("")
    budget = " or ".join(
        ([f"{protocol.steps} generator steps"] if protocol.steps else [])
        + ([f"{protocol.minutes:g} minutes of training"] if protocol.minutes else []))
    first = ", whichever came first," if protocol.steps and protocol.minutes else ""
    lines.append(f"Mean ± std over seeds {seeds}; {budget}{first} per run on "
                 f"`{protocol.dataset}`; ↓ lower is better, ↑ higher is better.")
    if protocol.final_samples:
        lines.append(f"Each run is scored on {protocol.final_samples} samples against the "
                     f"`{protocol.real_split}` split, as is the real held-out baseline row.")
    return "\n".join(lines)


def plot_curves(runs, path, metric_keys):
    """Each metric against training step: a line per model, a band over seeds."""
    keys = [k for k in metric_keys if any(k in point for r in runs for point in r["curve"])]
    if not keys:
        return None
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for model in dict.fromkeys(r["model"] for r in runs):
            curves = [{p["step"]: p[key] for p in r["curve"] if key in p}
                      for r in runs if r["model"] == model]
            steps = sorted(set.intersection(*(set(c) for c in curves))) if curves else []
            if not steps:
                continue
            values = np.array([[c[s] for s in steps] for c in curves])
            mean, std = values.mean(axis=0), values.std(axis=0)
            (line,) = ax.plot(steps, mean, label=model)
            ax.fill_between(steps, mean - std, mean + std, alpha=0.2, color=line.get_color())
        ax.set_xlabel("generator step")
        ax.set_ylabel(key)
        if key == "fid":
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    with fileio.atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path


def plot_samples(workdir, models, seed, path):
    """Seed `seed`'s final samples of each model, side by side."""
    found = [(m, os.path.join(workdir, "runs", _run_name(m, seed), "final_samples.png")) for m in models]
    found = [(m, p) for m, p in found if os.path.exists(p)]
    if not found:
        return None
    fig, axes = plt.subplots(1, len(found), figsize=(3.6 * len(found), 3.9), squeeze=False)
    for ax, (model, png) in zip(axes[0], found):
        ax.imshow(plt.imread(png), interpolation="nearest", cmap="gray", vmin=0, vmax=1)
        ax.set_title(model)
        ax.axis("off")
    fig.tight_layout()
    with fileio.atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path


def check_request(models, steps, seeds, overrides=(), minutes=None):
    """Refuse unknown, missing or repeated models, a non-positive budget and bad
    or repeated seeds, in one line. `steps` may be None when `minutes` is given."""
    if not models:
        raise GanzooError(f"no models given; accepted: one or more of {', '.join(list_models())}, "
                          "e.g. --models=dcgan,wgan_gp")
    for model in models:
        get_model_class(model)
    _refuse_repeats("models", models)
    if not seeds or any(not checks.non_negative_int(s) for s in seeds):
        raise GanzooError(f"bad seeds={list(seeds)!r}; accepted: integers >= 0, e.g. --seeds=0,1,2")
    _refuse_repeats("seeds", seeds)
    if minutes is not None:
        config.check_field("minutes", minutes)
    if steps is not None or minutes is None:
        checks.positive_int.check("steps", steps)
    split_overrides(models, overrides)


def _refuse_repeats(name, values):
    repeated = sorted({str(v) for v in values if list(values).count(v) > 1})
    if repeated:
        raise GanzooError(f"{name} {', '.join(repeated)} given twice in --{name}="
                          f"{','.join(map(str, values))}; accepted: each once")


def compare(models, dataset, steps, seeds, workdir, overrides=(), eval_every=None,
            eval_samples=None, minutes=None, **config_fields):
    """Train and evaluate every model with every seed; write results and figures.

    `minutes`: each run trains for that much wall time (with `steps` too:
    whichever comes first). Without `steps`, curve points need `eval_every`.
    Returns the results dict that is also written to `workdir/results.json`.
    """
    check_request(models, steps, seeds, overrides, minutes)
    shared = {**{k: v for k, v in config_fields.items() if v is not None},
              **split_overrides(models, overrides)[0]}
    # Refused before the baseline is scored, not when the first run starts.
    distribute.check_precision(shared.get("precision", "float32"),
                               shared.get("allow_slow_precision", False),
                               shared.get("strategy", "default"))
    _, info = data.load(dataset, shuffle=False, data_dir=config_fields.get("data_dir"),
                        image_size=config_fields.get("image_size"))
    conditional = [m for m in models if get_model_class(m).conditional]
    if conditional and not info.num_classes:
        raise GanzooError(f"{', '.join(conditional)} need labels but {dataset!r} has none; "
                          "accepted: a labelled dataset, or drop the conditional models")
    baseline = None
    if info.kind == "image":
        try:
            held_out = evaluation.RealSampler(dataset, "test", config_fields.get("data_dir"),
                                            config_fields.get("image_size"))
        except GanzooError:
            held_out = None  # no test split (a folder, an npz): no baseline row
        if held_out is not None:
            baseline = evaluation.evaluate(held_out, dataset, evaluation.IMAGE_METRICS, num_samples=len(held_out.x),
                                         data_dir=config_fields.get("data_dir"),
                                         image_size=config_fields.get("image_size"))
    if eval_every is None:
        eval_every = max(steps // 10, 1) if steps else 0
    protocol = Protocol(dataset, steps, tuple(seeds), eval_every, eval_samples,
                        overrides=tuple(overrides),
                        final_samples=baseline["stamp"]["n_fake"] if baseline else None,
                        minutes=minutes)
    fields, hparams = split_overrides(models, overrides)
    run_fields = {**config_fields, **fields}
    os.makedirs(workdir, exist_ok=True)
    total = len(models) * len(seeds)
    runs, started = [], time.time()
    for i, (model, seed) in enumerate((m, s) for m in models for s in seeds):
        logging.info("[%d/%d] %s seed %d (%.0f s so far)", i + 1, total, model, seed, time.time() - started)
        print(f"[{i + 1}/{total}] {model} seed {seed}", flush=True)
        runs.append(run_one(model, seed, protocol, workdir, hparams[model], **run_fields))
    columns = POINT_COLUMNS if info.kind == "points" else IMAGE_COLUMNS
    summary = summarize(runs, columns)
    if baseline:
        summary["real (held-out test split)"] = {
            k: (float(v), 0.0, 1) for k, v in baseline["metrics"].items() if k in columns}
    results = {"protocol": dataclasses.asdict(protocol), "summary": summary, "runs": runs,
               "baseline": baseline}
    fileio.atomic_write_json(os.path.join(workdir, "results.json"), results, default=float)
    fileio.atomic_write(os.path.join(workdir, "results.md"), markdown_table(summary, columns, protocol) + "\n")
    curve_keys = POINT_COLUMNS if info.kind == "points" else ["fid"]
    plot_curves(runs, os.path.join(workdir, "curves.png"), curve_keys)
    plot_samples(workdir, models, seeds[0], os.path.join(workdir, "samples.png"))
    return results


def make_flags():
    fv = cli.new_flags()
    flags.DEFINE_list("models", list_models(), "Models to compare (default: every registered one).",
                      flag_values=fv)
    flags.DEFINE_string("dataset", "digits", "Dataset every run trains and is scored on.", flag_values=fv)
    flags.DEFINE_integer("steps", None, "Generator updates per run (default 3000 without --minutes).",
                         flag_values=fv)
    flags.DEFINE_float("minutes", None, "Minutes of training wall time per run: variants compared "
                       "at equal time; with --steps, whichever comes first.", flag_values=fv)
    flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds; every model runs with each.", flag_values=fv)
    flags.DEFINE_string("workdir", None, "Where runs and results go (default runs/compare-<dataset>).",
                        flag_values=fv)
    flags.DEFINE_integer("eval_every", None, "Steps between curve points (default steps/10; none "
                         "with --minutes alone).",
                         flag_values=fv)
    flags.DEFINE_integer("eval_samples", None, "Samples per curve point.", flag_values=fv)
    config.define_flags(fv, RUN_FLAGS)
    flags.DEFINE_multi_string("set", [], "key=value override applied to every run that takes it.",
                              flag_values=fv)
    return fv


def _run(fv):
    try:
        seeds = [int(s) for s in fv["seeds"].value]
    except ValueError:
        raise GanzooError(f"bad --seeds={','.join(fv['seeds'].value)}; accepted: integers like 0,1,2") from None
    steps, minutes = fv["steps"].value, fv["minutes"].value
    if steps is None and minutes is None:
        steps = DEFAULT_STEPS
    check_request(fv["models"].value, steps, seeds, fv["set"].value, minutes)
    dataset = fv["dataset"].value
    workdir = fv["workdir"].value or os.path.join("runs", f"compare-{dataset.replace(':', '_').replace('/', '_')}")
    fields = config.flag_values_of(fv, RUN_FLAGS)
    results = compare(fv["models"].value, dataset, steps, seeds, workdir,
                      overrides=fv["set"].value, eval_every=fv["eval_every"].value,
                      eval_samples=fv["eval_samples"].value, minutes=minutes, **fields)
    with open(os.path.join(workdir, "results.md")) as f:
        print(f.read())
    print(f"{len(results['runs'])} runs; results in {workdir}")


main = cli.command(make_flags, _run, "python -m ganzoo.compare")


if __name__ == "__main__":
    sys.exit(main())
