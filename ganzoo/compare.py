"""Compare variants on one dataset under one protocol: `ganzoo compare` (or
`python -m ganzoo.compare`).

    ganzoo compare --models=vanilla,dcgan,wgan_gp,cgan --dataset=digits \\
        --steps=3000 --seeds=0,1,2 --workdir=runs/compare-digits

Every run gets the same data and split, the same budget of generator updates
(or, with `--minutes`, the same training wall time: the fair budget between a
variant with one critic step and one with five; the tables show the steps each
run reached; `--minutes=5,20` scores every run after 5 minutes, then trains it
on to 20 and scores it again, a table per budget), the same seeds and the same evaluation (extractor, sample counts, metrics);
each model keeps its paper defaults unless `--set` overrides them
(`--set MODEL:key=value` for one model alone). `--sweep key=v1,v2,...` runs
every model at each value of one setting and adds, per row, how many runs
diverged or collapsed and the range of the first metric. Finished
runs are skipped and an interrupted run resumes, so the command can simply be
run again. Output in the workdir: `results.json` (every run, its stamp and its
curve), `results.md` (mean ± std over seeds per model) and PNG figures (each
metric against training step with a band over seeds, and samples side by side).
"""

import csv
import dataclasses
import json
import os
import shutil
import sys
import time

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from absl import flags, logging

from ganzoo import (
    checkpoints,
    checks,
    cli,
    config,
    data,
    distribute,
    evaluation,
    fileio,
    images,
    training,
)
from ganzoo.errors import GanzooError
from ganzoo.models import get_model_class, list_models

matplotlib.use("Agg")  # figures are files; no display is needed

# Metrics reported per dataset kind, in table order; lower-is-better ones marked.
IMAGE_COLUMNS = ["fid", "kid", "is", "precision", "recall", "density", "coverage", "acc", "intra_fid"]
POINT_COLUMNS = ["modes_covered", "high_quality", "reverse_kl"]
LOWER_IS_BETTER = {"fid", "kid", "intra_fid", "reverse_kl"}
# Config fields every run shares, offered as flags.
RUN_FLAGS = ("batch_size", "precision", "strategy", "data_dir", "image_size")
# Config fields a variant may set for its own runs (`--set MODEL:batch_size=32`): at
# equal wall time, a variant's batch size is its own choice, like its learning rate.
PER_MODEL_FIELDS = ("batch_size", "steps_per_execution")
# Config fields the comparison sets for every run from its own flags, and what they set:
# `--set` or `--sweep` would fight the protocol every run shares (and crashed the run).
PROTOCOL_FLAGS = {
    "model": ("models", "the models compared"),
    "dataset": ("dataset", "the dataset every run trains on"),
    "steps": ("steps", "every run's budget (with --minutes)"),
    "epochs": ("steps", "every run's budget (with --minutes)"),
    "minutes": ("minutes", "every run's budget (with --steps)"),
    "seed": ("seeds", "the seeds every model runs with"),
    "eval_every": ("eval_every", "every run's curve points"),
    "eval_samples": ("eval_samples", "every run's curve points"),
}


@dataclasses.dataclass
class Protocol:
    """What every run of a comparison shares."""

    dataset: str
    steps: int | None
    seeds: tuple
    eval_every: int
    eval_samples: int | None
    # The real split every run is scored against (FID's reference statistics),
    # and the split whose examples are scored the same way as the baseline row.
    real_split: str = "train"
    held_out_split: str = "test"
    extractor: str = "auto"
    overrides: tuple = ()
    # Samples in each run's final evaluation: as many as the held-out split has,
    # so runs score on the same footing as the real held-out baseline.
    final_samples: int | None = None
    # Minutes of training wall time per run (None: steps alone bound a run).
    minutes: float | None = None
    # Earlier budgets (minutes) at which each run is also scored on its way to
    # `minutes`: one run, continued, gives a table per budget.
    snapshots: tuple = ()
    # One setting swept: ("learning_rate", ("1e-4", "4e-4")) runs every model
    # at each value (as `--set key=value`); () sweeps nothing.
    sweep: tuple = ()


def _run_name(model, seed, setting=None):
    return f"{model}-{setting}-seed{seed}" if setting else f"{model}-seed{seed}"


def _sweep_settings(protocol):
    """The `key=value` items a sweep runs each model with ([None]: no sweep)."""
    if not protocol.sweep:
        return [None]
    key, values = protocol.sweep
    return [f"{key}={value}" for value in values]


def _refuse_protocol_key(key, source):
    if key in PROTOCOL_FLAGS:
        flag, what = PROTOCOL_FLAGS[key]
        raise GanzooError(f"{source} conflicts with --{flag}, which sets {what}; accepted: "
                          f"--{flag}=...")


def parse_sweep(text, models, overrides=()):
    """`"key=v1,v2,..."` -> `(key, (v1, v2, ...))`, checked against every model.

    The key is a config field or a hyperparameter every model has, not one the
    protocol sets nor one `overrides` (`--set`) also sets; each value must be
    accepted as `--set key=value`.
    """
    key, sep, values = text.partition("=")
    values = tuple(v.strip() for v in values.split(",") if v.strip())
    if not sep or not key.strip() or len(values) < 2:
        raise GanzooError(f"bad --sweep={text!r}; accepted: key=value1,value2,... with two or more "
                          "values, e.g. --sweep=learning_rate=1e-4,4e-4,1.6e-3")
    key = key.strip()
    _refuse_protocol_key(key, f"--sweep={key}=...")
    for item in overrides:
        if config.parse_override(item)[0].rpartition(":")[2] == key:
            raise GanzooError(f"--set {item} and --sweep={text} given together: each swept value "
                              f"replaces it in every run; accepted: {key} in one of them")
    lacking = [m for m in models
               if key not in config.config_fields() and key not in config.model_hyperparameters(m)]
    if lacking:
        raise GanzooError(f"--sweep {key} is not a setting of {', '.join(lacking)}; accepted: a "
                          "config field or a hyperparameter every compared model has")
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise GanzooError(f"{key}={', '.join(repeated)} given twice in --sweep={text}; accepted: "
                          "each value once")
    for value in values:
        for model in models:
            fields, hparams = config.parse_overrides(model, [f"{key}={value}"])
            if key in fields:
                config.check_field(key, fields[key])
            else:
                get_model_class(model).check_hyperparameters(hparams)
    return key, values


def _symptoms(run_dir):
    """Instability symptoms the run's monitor recorded, each once, in order."""
    path = os.path.join(run_dir, training.INSTABILITY_FILE)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(dict.fromkeys(json.loads(line)["symptom"] for line in f if line.strip()))


def split_overrides(models, overrides, skip_foreign=False):
    """`--set` strings -> typed `(config fields, {model: hyperparameters})`.

    A config field applies to every run, a hyperparameter to the models that
    have it, and `MODEL:key=value` to that model alone (checked and skipped
    when MODEL is registered but not compared, so a flag file can be narrowed
    with `--models`); a key that applies to none of `models` is refused (or
    skipped).
    """
    fields, hparams = {}, {model: {} for model in models}
    for item in overrides:
        key, _ = config.parse_override(item)
        only, colon, key = key.rpartition(":")
        if colon:
            if only not in models:
                if only not in list_models():
                    raise GanzooError(f"--set {item!r} names model {only!r}, which is not "
                                      f"registered; accepted: one of {', '.join(models)}")
                # Another zoo model's setting (a flag file narrowed with --models):
                # checked, then left out.
                config.parse_overrides(only, [item.split(":", 1)[1]])
                if not skip_foreign:
                    logging.info("--set %s: %s is not compared; skipped", item, only)
                continue
            item = item.split(":", 1)[1]
            if key in PER_MODEL_FIELDS:
                # Checked now; `model_fields` applies it to that model's runs.
                for name, value in config.parse_overrides(only, [item])[0].items():
                    try:
                        config.check_field(name, value)
                    except GanzooError as e:
                        raise GanzooError(f"--set {only}:{name}: {e}") from None
                continue
            if key in config.config_fields():
                raise GanzooError(f"--set {only}:{key}: {key} is a config field, shared by every "
                                  "run; accepted: a hyperparameter of that model, one of "
                                  f"{', '.join(PER_MODEL_FIELDS)}, or --set {key}=... for all")
            hparams[only].update(config.parse_overrides(only, [item])[1])
            continue
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


def model_fields(model, overrides):
    """The typed config fields `--set MODEL:field=value` gives `model`'s runs alone.

    Only `PER_MODEL_FIELDS`: how a variant spends its budget (its batch size),
    never what the runs share (data, budget, evaluation, seed).
    """
    fields = {}
    for item in overrides:
        key, _ = config.parse_override(item)
        only, colon, key = key.rpartition(":")
        if colon and only == model and key in PER_MODEL_FIELDS:
            fields.update(config.parse_overrides(model, [item.split(":", 1)[1]])[0])
    return fields


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


def _train_time(run_dir):
    """`{"train_seconds", "cpu_seconds", "steal"}` from metrics.csv: wall and
    process CPU time of training, summed over resumed segments, and the share
    of CPU time the hypervisor stole, weighted by wall time (each None where
    not recorded; runs logged before these columns existed have wall time only)."""
    path = os.path.join(run_dir, "metrics.csv")
    if not os.path.exists(path):
        return {"train_seconds": None, "cpu_seconds": None, "steal": None}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    wall = [float(row["seconds"]) for row in rows]

    def total(key, weighted=False):
        pairs = [(float(row[key]), w) for row, w in zip(rows, wall) if row.get(key) not in (None, "")]
        if not pairs or (weighted and not sum(w for _, w in pairs)):
            return None
        if weighted:
            return round(sum(v * w for v, w in pairs) / sum(w for _, w in pairs), 4)
        return round(sum(v for v, _ in pairs), 2)

    return {"train_seconds": round(sum(wall), 2), "cpu_seconds": total("cpu_seconds"),
            "steal": total("steal", weighted=True)}


def _suffix(minutes):
    """File-name suffix of a snapshot's results: `-5min` (none for the final budget)."""
    return "" if minutes is None else f"-{minutes:g}min"


def run_one(model, seed, protocol, workdir, hparams=None, setting=None, **config_fields):
    """Train (or resume) one run and evaluate it; the run's result dict.

    `hparams` and `config_fields` are typed values (see `split_overrides`);
    without `hparams`, the protocol's `--set` items that apply to `model` are
    used (and `setting`, a swept `key=value`, after them). A run that diverges
    is a result too: no metrics, and `diverged` in its symptoms. With
    `protocol.snapshots`, the run is first trained to and scored at each of
    those budgets (`result["snapshots"]`: {minutes: result}), then continued.
    """
    if hparams is None:
        items = list(protocol.overrides) + ([setting] if setting else [])
        fields, by_model = split_overrides([model], items, skip_foreign=True)
        hparams = by_model[model]
        config_fields = {**config_fields, **fields, **model_fields(model, items)}
    snapshots = {}
    for minutes in protocol.snapshots:
        snapshots[f"{minutes:g}"] = _train_and_score(
            model, seed, protocol, workdir, hparams, setting, config_fields, snapshot=minutes)
        if "diverged" in snapshots[f"{minutes:g}"]["symptoms"]:
            # A diverged run is over: later budgets record the same outcome.
            for later in protocol.snapshots[len(snapshots):]:
                snapshots[f"{later:g}"] = snapshots[f"{minutes:g}"]
            return {**snapshots[f"{minutes:g}"], "snapshots": snapshots}
    result = _train_and_score(model, seed, protocol, workdir, hparams, setting, config_fields)
    return {**result, "snapshots": snapshots} if snapshots else result


def _train_and_score(model, seed, protocol, workdir, hparams, setting, config_fields, snapshot=None):
    """Train one run to the protocol's budget (or to `snapshot` minutes) and score it."""
    run_dir = os.path.join(workdir, "runs", _run_name(model, seed, setting))
    if snapshot is None and protocol.minutes is not None and os.path.exists(
            os.path.join(run_dir, f"result{_suffix(protocol.minutes)}.json")):
        # The run went on past this budget (`--minutes=5,20`, then `--minutes=5`)
        # and kept its result at it: that is this budget's result.
        return _train_and_score(model, seed, protocol, workdir, hparams, setting, config_fields,
                                snapshot=protocol.minutes)
    result_path = os.path.join(run_dir, f"result{_suffix(snapshot)}.json")
    run_config = config.make_config(
        model=model, dataset=protocol.dataset, steps=protocol.steps,
        minutes=protocol.minutes if snapshot is None else snapshot,
        seed=seed, eval_every=protocol.eval_every, eval_samples=protocol.eval_samples, hparams=hparams,
        **config_fields,
    )
    if os.path.exists(result_path):
        with open(result_path) as f:
            stored = json.load(f)
        if _answers(stored, run_config, result_path):
            if _scored_against(stored) in (None, protocol.real_split):
                return stored
            return _rescore(stored, protocol, run_dir, result_path, snapshot, run_config)
        logging.info("%s: a larger budget than its stored result's; training on", run_dir)
    result = {"model": model, "group": f"{model} {setting}" if setting else model,
              "setting": setting, "seed": seed,
              "hyperparameters": _resolved_hyperparameters(run_config)}
    try:
        outcome = training.train(run_config, run_dir, evaluate_fn=evaluation.scorer_for(run_config))
    except training.TrainingDiverged as e:
        logging.warning("%s: %s", _run_name(model, seed, setting), e)
        result.update(steps=e.step, **_train_time(run_dir), config=run_config.to_dict(),
                      metrics={}, stamp=None, curve=_read_curve(run_dir),
                      symptoms=[*_symptoms(run_dir), "diverged"])
        fileio.atomic_write_json(result_path, result, default=float)
        return result
    final = _score(outcome.model, protocol, seed, run_config)
    if snapshot is not None:
        # Kept so that this budget's generator can be scored again (another
        # reference split) after training has gone on and pruned its checkpoint.
        shutil.copyfile(checkpoints.latest_checkpoint(run_dir),
                        os.path.join(run_dir, f"generator{_suffix(snapshot)}.keras"))
    result.update(
        steps=outcome.steps, **_train_time(run_dir), config=run_config.to_dict(),
        metrics=final["metrics"], stamp=final["stamp"], curve=_read_curve(run_dir),
        symptoms=_symptoms(run_dir),
    )
    images.save_samples(_grid_samples(outcome.model),
                        os.path.join(run_dir, f"final_samples{_suffix(snapshot)}.png"),
                        reference=_reference(protocol.dataset, outcome.model))
    fileio.atomic_write_json(result_path, result, default=float)
    return result


def _score(model, protocol, seed, run_config):
    return evaluation.evaluate(
        model, protocol.dataset, extractor=protocol.extractor, real_split=protocol.real_split,
        num_samples=protocol.final_samples, seed=1000 + seed, data_dir=run_config.data_dir,
        image_size=run_config.image_size,
    )


def _scored_against(result):
    """The real split a stored result was scored against (None: not scored, e.g. diverged)."""
    return (result.get("stamp") or {}).get("real_split")


def _rescore(stored, protocol, run_dir, result_path, snapshot, run_config):
    """Score a finished run's generator again, against `protocol.real_split`.

    The generator of that budget is the snapshot's kept copy, or (for the last
    budget) the checkpoint of the result's step; without it the run is refused,
    since its stored scores answer another protocol.
    """
    before = _scored_against(stored)
    kept = os.path.join(run_dir, f"generator{_suffix(snapshot)}.keras")
    if os.path.exists(kept):
        generator = kept
    else:
        generator = dict(checkpoints.list_checkpoints(run_dir)).get(stored["steps"]) if snapshot is None else None
    if generator is None:
        raise GanzooError(
            f"{result_path} was scored against the {before!r} split, not {protocol.real_split!r}, "
            f"and its generator at step {stored['steps']} is gone; accepted: "
            f"--real_split={before} to reuse it, or another --workdir")
    logging.info("%s: scoring step %d again, against the %s split", run_dir, stored["steps"],
                 protocol.real_split)
    final = _score(checkpoints.load_model(generator), protocol, stored["seed"], run_config)
    result = {**stored, "metrics": final["metrics"], "stamp": final["stamp"],
              "rescored_from": {"real_split": before, "metrics": stored["metrics"]}}
    fileio.atomic_write_json(result_path, result, default=float)
    return result


# Settings that say where a run reads and writes, not what it learns.
_OPERATIONAL = ("data_dir", "checkpoint_every", "keep_checkpoints")
_BUDGET = ("steps", "epochs", "minutes")


def _resolved_hyperparameters(run_config):
    """Every hyperparameter the run's model was built with: the class defaults of
    this version, then the run's own settings."""
    defaults = get_model_class(run_config.model).default_hyperparameters()
    return json.loads(config.canonical({**defaults, **run_config.model_hparams()}))


def _answers(stored, run_config, path):
    """Whether a finished run's stored result is the run `run_config` asks for.

    A run of other settings is refused (a comparison must not silently mix
    protocols); a larger budget is not an error (the run trains on from its
    checkpoint, as `train` allows); a smaller one is refused (the run cannot
    be un-trained).
    """
    if not isinstance(stored.get("config"), dict):
        raise GanzooError(f"{path} holds no run settings ('config'); accepted: a result written by "
                          "`compare`, or another --workdir")
    saved = config.from_dict(stored["config"], source=path).to_dict()
    current = run_config.to_dict()
    # Each hyperparameter compared by name, so the refusal names the one that differs:
    # resolved against the defaults where the result records them (a default that
    # changed since must not pass as the same run, nor an explicit default as
    # another), as given for results written before they did.
    given_hparams, asked_hparams = saved.pop("hparams"), current.pop("hparams")
    recorded = stored.get("hyperparameters")
    if isinstance(recorded, dict):
        # A hyperparameter added since the run, left at its default, is taken to
        # keep the old behaviour (the rule for adding one).
        given = {f"hyperparameters.{k}": v for k, v in recorded.items()}
        asked = {f"hyperparameters.{k}": v for k, v in _resolved_hyperparameters(run_config).items()
                 if k in recorded or k in asked_hparams}
    else:
        given = {f"hparams.{k}": v for k, v in given_hparams.items()}
        asked = {f"hparams.{k}": v for k, v in asked_hparams.items()}
    flat, wanted = {**given, **saved}, {**asked, **current}
    for key in sorted(set(flat) | set(wanted)):
        if key in _OPERATIONAL or key in _BUDGET:
            continue
        if config.canonical(flat.get(key)) != config.canonical(wanted.get(key)):
            raise GanzooError(
                f"{path} is a finished run with {key}={flat.get(key)!r}, not {wanted.get(key)!r}; "
                "accepted: the same settings to reuse it, or another --workdir")
    grown = False
    for key in _BUDGET:
        before, now = saved.get(key), current[key]
        if before == now:
            continue
        if before is not None and now is not None and now > before:
            grown = True
            continue
        raise GanzooError(
            f"{path} is a finished run with {key}={before!r}, not {now!r}; accepted: the same or a "
            f"larger {key} (training goes on from the run's checkpoint), or another --workdir")
    return not grown


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


def _group(run):
    return run.get("group", run["model"])


# Symptoms that make a run count as unstable in the tables: a blow-up or a
# non-finite loss (diverged), or samples of a fixed latent batch collapsed.
DIVERGED_SYMPTOMS = {"diverged", "blowup"}


# What a run's record holds besides its metrics: the steps it reached, its wall
# time, and the share of CPU time the hypervisor stole from it.
RUN_COLUMNS = ("steps", "train_seconds", "steal")


def summarize(runs, columns):
    """{group: {metric: (mean, std, n, min, max)}, ...} over seeds, plus steps,
    train seconds, steal and `unstable` = (diverged runs, collapsed runs, runs).
    A group is a model, or a model at one swept setting."""
    summary = {}
    for group in dict.fromkeys(_group(r) for r in runs):
        mine = [r for r in runs if _group(r) == group]
        row = {}
        for column in columns + list(RUN_COLUMNS):
            values = [r.get(column) if column in RUN_COLUMNS else r["metrics"].get(column) for r in mine]
            values = [float(v) for v in values if v is not None]
            if values:
                row[column] = (float(np.mean(values)), float(np.std(values)), len(values),
                               float(np.min(values)), float(np.max(values)))
        symptoms = [set(r.get("symptoms", ())) for r in mine]
        row["unstable"] = (sum(bool(s & DIVERGED_SYMPTOMS) for s in symptoms),
                           sum("collapse" in s for s in symptoms), len(mine))
        summary[group] = row
    return summary


def markdown_table(summary, columns, protocol):
    present = [c for c in columns if any(c in row for row in summary.values())]
    arrow = {c: " ↓" if c in LOWER_IS_BETTER else " ↑" for c in present}
    # Stability columns when a sweep asks about it or some run was unstable.
    stability = bool(protocol.sweep) or any(
        sum(row.get("unstable", (0, 0, 0))[:2]) for row in summary.values())
    spread = present[:1] if protocol.sweep else []
    head = ("| model | " + " | ".join(f"{c}{arrow[c]}" for c in present)
            + "".join(f" | {c} range" for c in spread)
            + (" | diverged | collapsed" if stability else "")
            + " | steps reached | train time / run |")
    # Stolen CPU time, where recorded: what a time budget really bought.
    stolen = any("steal" in row for row in summary.values())
    head += " CPU stolen |" if stolen else ""
    lines = [head, "|" + "---|" * (len(present) + len(spread) + 3 + 2 * stability + stolen)]
    for model, row in summary.items():
        cells = []
        for c in present:
            if c in row:
                mean, std = row[c][:2]
                cells.append(f"{mean:.3f} ± {std:.3f}" if abs(mean) < 100 else f"{mean:.1f} ± {std:.1f}")
            else:
                cells.append("–")
        for c in spread:
            low, high = row[c][3:5] if c in row and len(row[c]) >= 5 else (None, None)
            cells.append("–" if low is None else (f"{low:.3g}–{high:.3g}"))
        if stability:
            diverged, collapsed, n = row.get("unstable", (0, 0, 0))
            cells += [f"{diverged}/{n}" if n else "–", f"{collapsed}/{n}" if n else "–"]
        steps, seconds = row.get("steps"), row.get("train_seconds")
        cells.append((f"{steps[0]:.0f}" + (f" ± {steps[1]:.0f}" if steps[1] else "")) if steps else "–")
        cells.append(f"{seconds[0]:.0f} s" if seconds else "–")
        if stolen:
            steal = row.get("steal")
            cells.append(f"{100 * steal[0]:.0f}%" + (f" (max {100 * steal[4]:.0f}%)" if steal[2] > 1 else "")
                         if steal else "–")
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    seeds = ",".join(map(str, protocol.seeds))
    lines.append("")
    budget = " or ".join(
        ([f"{protocol.steps} generator steps"] if protocol.steps else [])
        + ([f"{protocol.minutes:g} minutes of training"] if protocol.minutes else []))
    first = ", whichever came first," if protocol.steps and protocol.minutes else ""
    swept = (f" at {protocol.sweep[0]} = {', '.join(protocol.sweep[1])}" if protocol.sweep else "")
    lines.append(f"Mean ± std over seeds {seeds}{swept}; {budget}{first} per run on "
                 f"`{protocol.dataset}`; ↓ lower is better, ↑ higher is better.")
    if stability:
        lines.append("diverged: runs whose losses blew up or became non-finite (no metrics); "
                     "collapsed: runs whose fixed-latent samples collapsed at some epoch "
                     "(`InstabilityMonitor`).")
    if stolen:
        lines.append("CPU stolen: the share of the machine's CPU time the hypervisor took during "
                     "training (`/proc/stat`), mean over seeds; a time-budgeted run that lost more "
                     "reached fewer steps.")
    if protocol.final_samples:
        row = (f", as is the real baseline row (`{protocol.held_out_split}` examples)"
               if protocol.held_out_split else "")
        lines.append(f"Each run is scored on {protocol.final_samples} samples against the "
                     f"`{protocol.real_split}` split{row}.")
    if "fid" in columns:
        extractor = (evaluation.features.default_extractor_name(protocol.dataset)
                     if protocol.extractor == "auto" else protocol.extractor)
        lines.append(evaluation.features.fid_note(extractor))
    return "\n".join(lines)


def plot_curves(runs, path, metric_keys):
    """Each metric against training step: a line per model, a band over seeds."""
    keys = [k for k in metric_keys if any(k in point for r in runs for point in r["curve"])]
    if not keys:
        return None
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for model in dict.fromkeys(_group(r) for r in runs):
            curves = [{p["step"]: p[key] for p in r["curve"] if key in p}
                      for r in runs if _group(r) == model]
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


def plot_samples(workdir, run_names, path, suffixes=("",)):
    """The final samples of `run_names` ({title: run name}), side by side; each
    run's grid is the first of `final_samples{suffix}.png` for `suffixes` it has."""
    found = []
    for title, name in run_names.items():
        grids = [os.path.join(workdir, "runs", name, f"final_samples{suffix}.png") for suffix in suffixes]
        found += [(title, grid) for grid in grids if os.path.exists(grid)][:1]
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


def budgets(minutes):
    """`--minutes` as a sorted tuple of budgets: 5 -> (5.0,), "5,20" -> (5.0, 20.0)."""
    if minutes is None:
        return ()
    items = minutes if isinstance(minutes, (list, tuple)) else [minutes]
    if not items:
        raise GanzooError("bad minutes=''; accepted: a number > 0, or several ascending ones "
                          "like 5,20")
    values = []
    for item in items:
        try:
            values.append(float(item))
        except (TypeError, ValueError):
            raise GanzooError(f"bad minutes={item!r}; accepted: a number > 0, or several "
                              "ascending ones like 5,20") from None
        config.check_field("minutes", values[-1])
    _refuse_repeats("minutes", values)
    if values != sorted(values):
        raise GanzooError(f"bad minutes={','.join(f'{v:g}' for v in values)}; accepted: budgets "
                          "in ascending order, like 5,20")
    return tuple(values)


def check_request(models, steps, seeds, overrides=(), minutes=None):
    """Refuse unknown, missing or repeated models, a non-positive budget and bad
    or repeated seeds, in one line. `steps` may be None when `minutes` is given;
    `minutes` may be several budgets (see `budgets`)."""
    if not models:
        raise GanzooError(f"no models given; accepted: one or more of {', '.join(list_models())}, "
                          "e.g. --models=dcgan,wgan_gp")
    for model in models:
        get_model_class(model)
    _refuse_repeats("models", models)
    if not seeds or any(not checks.non_negative_int(s) for s in seeds):
        raise GanzooError(f"bad seeds={list(seeds)!r}; accepted: integers >= 0, e.g. --seeds=0,1,2")
    _refuse_repeats("seeds", seeds)
    if budgets(minutes) and steps is not None and len(budgets(minutes)) > 1:
        raise GanzooError(f"minutes={','.join(f'{m:g}' for m in budgets(minutes))} with "
                          f"steps={steps}; accepted: several budgets in minutes alone")
    if steps is not None or minutes is None:
        checks.positive_int.check("steps", steps)
    for item in overrides:
        key = config.parse_override(item)[0]
        if ":" not in key:  # MODEL:field is refused by split_overrides
            _refuse_protocol_key(key, f"--set {item}")
    # The one place that logs what a narrowed flag file skips.
    _, hyperparameters = split_overrides(models, overrides)
    # A bad value is refused now, not when its model's first run starts hours in.
    for model, values in hyperparameters.items():
        get_model_class(model).check_hyperparameters(values)


def _refuse_repeats(name, values):
    repeated = sorted({str(v) for v in values if list(values).count(v) > 1})
    if repeated:
        raise GanzooError(f"{name} {', '.join(repeated)} given twice in --{name}="
                          f"{','.join(map(str, values))}; accepted: each once")


def compare(models, dataset, steps, seeds, workdir, overrides=(), eval_every=None,
            eval_samples=None, minutes=None, sweep=None, real_split="train", held_out_split="test",
            **config_fields):
    """Train and evaluate every model with every seed; write results and figures.

    `minutes`: each run trains for that much wall time (with `steps` too:
    whichever comes first); several (`(5, 20)`) score each run at every budget
    on its way to the last, with a table per budget. Without `steps`, curve points need `eval_every`.
    `sweep`: `"key=v1,v2,..."` runs every model at each value (a row each).
    `real_split`: the real examples every run is scored against;
    `held_out_split`: real examples scored the same way, as the baseline row.
    Returns the results dict that is also written to `workdir/results.json`.
    """
    check_request(models, steps, seeds, overrides, minutes)
    minutes = budgets(minutes)
    minutes, snapshots = (minutes[-1], minutes[:-1]) if minutes else (None, ())
    sweep = parse_sweep(sweep, models, overrides) if sweep else ()
    shared = {**{k: v for k, v in config_fields.items() if v is not None},
              **split_overrides(models, overrides, skip_foreign=True)[0]}
    if snapshots and shared.get("lr_decay", "none") != "none":
        raise GanzooError(f"lr_decay={shared['lr_decay']} with minutes="
                          f"{','.join(f'{m:g}' for m in (*snapshots, minutes))}: a run decayed to "
                          "an earlier budget cannot be continued to a later one; accepted: one "
                          "budget, or lr_decay=none")
    # Refused before the baseline is scored, not when the first run starts.
    distribute.check_precision(shared.get("precision", "float32"),
                               shared.get("allow_slow_precision", False),
                               shared.get("strategy", "default"))
    # The reference split: a missing one is refused here, not when the first run is scored.
    _, info = data.load(dataset, real_split, shuffle=False, data_dir=config_fields.get("data_dir"),
                        image_size=config_fields.get("image_size"))
    conditional = [m for m in models if get_model_class(m).conditional]
    if conditional and not info.num_classes:
        raise GanzooError(f"{', '.join(conditional)} need labels but {dataset!r} has none; "
                          "accepted: a labelled dataset, or drop the conditional models")
    if real_split == held_out_split:
        raise GanzooError(f"real_split and held_out_split are both {real_split!r}; accepted: two "
                          "different splits (the baseline row scores real examples the runs did not "
                          "see against the reference)")
    baseline = None
    if info.kind == "image":
        try:
            held_out = evaluation.RealSampler(dataset, held_out_split, config_fields.get("data_dir"),
                                              config_fields.get("image_size"))
        except GanzooError:
            if held_out_split != "test":
                raise
            held_out = None  # no test split (a folder, an npz): no baseline row
        if held_out is not None:
            baseline = evaluation.evaluate(
                held_out, dataset, evaluation.IMAGE_METRICS, real_split=real_split,
                num_samples=min(len(held_out.x), evaluation.MAX_REAL),
                data_dir=config_fields.get("data_dir"), image_size=config_fields.get("image_size"))
    if eval_every is None:
        eval_every = max(steps // 10, 1) if steps else 0
    protocol = Protocol(dataset, steps, tuple(seeds), eval_every, eval_samples,
                        real_split=real_split, held_out_split=held_out_split,
                        overrides=tuple(overrides),
                        final_samples=baseline["stamp"]["n_fake"] if baseline else None,
                        minutes=minutes, snapshots=snapshots, sweep=sweep)
    os.makedirs(workdir, exist_ok=True)
    plan = [(m, setting, s) for m in models for setting in _sweep_settings(protocol) for s in seeds]
    runs, started = [], time.time()
    for i, (model, setting, seed) in enumerate(plan):
        label = f"{model}{' ' + setting if setting else ''} seed {seed}"
        logging.info("[%d/%d] %s (%.0f s so far)", i + 1, len(plan), label, time.time() - started)
        print(f"[{i + 1}/{len(plan)}] {label}", flush=True)
        items = list(overrides) + ([setting] if setting else [])
        fields, hparams = split_overrides(models, items, skip_foreign=True)
        runs.append(run_one(model, seed, protocol, workdir, hparams[model], setting=setting,
                            **{**config_fields, **fields, **model_fields(model, items)}))
    columns = POINT_COLUMNS if info.kind == "points" else IMAGE_COLUMNS

    def summary_of(these):
        summary = summarize(these, columns)
        if baseline:
            summary[f"real ({held_out_split} split)"] = {
                k: (float(v), 0.0, 1) for k, v in baseline["metrics"].items() if k in columns}
        return summary

    summary = summary_of(runs)
    tables = [markdown_table(summary, columns, protocol)]
    firsts = {_group(r): _run_name(r["model"], r["seed"], r.get("setting"))
              for r in runs if r["seed"] == seeds[0]}
    snapshot_summaries = {}
    for snapshot in protocol.snapshots:
        key = f"{snapshot:g}"
        snapshot_summaries[key] = summary_of([r["snapshots"][key] for r in runs])
        tables.insert(len(snapshot_summaries) - 1, markdown_table(
            snapshot_summaries[key], columns, dataclasses.replace(protocol, minutes=snapshot)))
        plot_samples(workdir, firsts, os.path.join(workdir, f"samples{_suffix(snapshot)}.png"),
                     suffixes=(_suffix(snapshot),))
    if protocol.snapshots:
        tables = [f"**After {minutes:g} minutes of training**\n\n{table}"
                  for minutes, table in zip([*protocol.snapshots, protocol.minutes], tables)]
    results = {"protocol": dataclasses.asdict(protocol), "summary": summary, "runs": runs,
               "baseline": baseline, **({"snapshots": snapshot_summaries} if snapshot_summaries else {})}
    fileio.atomic_write_json(os.path.join(workdir, "results.json"), results, default=float)
    fileio.atomic_write(os.path.join(workdir, "results.md"), "\n\n".join(tables) + "\n")
    curve_keys = POINT_COLUMNS if info.kind == "points" else ["fid"]
    plot_curves(runs, os.path.join(workdir, "curves.png"), curve_keys)
    # A run that went on past `--minutes` kept its grid at it (see `_train_and_score`).
    final_suffixes = (_suffix(protocol.minutes), "") if protocol.minutes else ("",)
    plot_samples(workdir, firsts, os.path.join(workdir, "samples.png"), suffixes=final_suffixes)
    return results


def make_flags():
    fv = cli.new_flags()
    flags.DEFINE_list("models", list_models(), "Models to compare (default: every registered one).",
                      flag_values=fv)
    flags.DEFINE_string("dataset", "digits", "Dataset every run trains and is scored on.", flag_values=fv)
    flags.DEFINE_integer("steps", None, "Generator updates per run (default 3000 without --minutes).",
                         flag_values=fv)
    flags.DEFINE_list("minutes", None, "Minutes of training wall time per run: variants compared "
                      "at equal time; with --steps, whichever comes first. Several (5,20): each "
                      "run is scored at every budget on its way to the last.", flag_values=fv)
    flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds; every model runs with each.", flag_values=fv)
    flags.DEFINE_string("workdir", None, "The comparison's directory: its training runs and "
                        "results (default runs/compare-<dataset>).",
                        flag_values=fv)
    flags.DEFINE_integer("eval_every", None, "Steps between evaluations during training: the "
                         "curve points (default steps/10; none with --minutes alone).",
                         flag_values=fv)
    flags.DEFINE_integer("eval_samples", None, "Generated samples scored at each evaluation "
                         "during training (a curve point); each run's final score uses as many "
                         "as the held-out split has.", flag_values=fv)
    flags.DEFINE_string("sweep", None, "One setting to sweep, key=v1,v2,...: every model runs at each "
                        "value, e.g. --sweep=learning_rate=1e-4,4e-4,1.6e-3.", flag_values=fv)
    flags.DEFINE_string("real_split", "train", "Real split every run is scored against (FID's "
                        "reference), e.g. test or train[90%:].", flag_values=fv)
    flags.DEFINE_string("held_out_split", "test", "Real split scored against --real_split as the "
                        "baseline row (another split than it).", flag_values=fv)
    config.define_flags(fv, RUN_FLAGS)
    flags.DEFINE_multi_string("set", [], "key=value override applied to every run that takes it; "
                              "MODEL:key=value for one model (a hyperparameter, batch_size or "
                              "steps_per_execution).",
                              flag_values=fv)
    return fv


def _run(fv):
    try:
        seeds = [int(s) for s in fv["seeds"].value]
    except ValueError:
        raise GanzooError(f"bad --seeds={','.join(fv['seeds'].value)}; accepted: integers like 0,1,2") from None
    steps, minutes = fv["steps"].value, fv["minutes"].value
    if steps is None and minutes is None:
        steps = config.TrainConfig.DEFAULT_STEPS
    overrides = config.renamed_overrides(fv["set"].value)
    check_request(fv["models"].value, steps, seeds, overrides, minutes)
    dataset = fv["dataset"].value
    workdir = fv["workdir"].value or os.path.join("runs", f"compare-{dataset.replace(':', '_').replace('/', '_')}")
    fields = config.flag_values_of(fv, RUN_FLAGS)
    results = compare(fv["models"].value, dataset, steps, seeds, workdir,
                      overrides=overrides, eval_every=fv["eval_every"].value,
                      eval_samples=fv["eval_samples"].value, minutes=minutes,
                      sweep=fv["sweep"].value, real_split=fv["real_split"].value,
                      held_out_split=fv["held_out_split"].value, **fields)
    with open(os.path.join(workdir, "results.md")) as f:
        print(f.read())
    print(f"{len(results['runs'])} runs; results in {workdir}")


main = cli.command(make_flags, _run, "python -m ganzoo.compare")


if __name__ == "__main__":
    sys.exit(main())
