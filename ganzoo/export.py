"""Export a training run's generator: `ganzoo export` (or `python -m ganzoo.export`).

    ganzoo export --workdir=runs/wgan_gp-digits --out=exported/wgan_gp-digits
    python -m ganzoo.export --checkpoint=RUN/checkpoints/ckpt-00003000.keras --out=PATH

The latest checkpoint of `--workdir` (or the file `--checkpoint`) is written to
`--out` in the format `ganzoo.savedmodel` describes, with the run's config.json
in its metadata. An earlier export at `--out` is replaced atomically.
"""

import os
import sys

from absl import flags

from ganzoo import checkpoints, cli
from ganzoo.errors import GanzooError
from ganzoo.savedmodel import check_replaceable, export_generator, variables_bytes


def export_workdir(out, workdir=None, checkpoint=None, metadata=None):
    """Export the latest checkpoint of `workdir` (or the file `checkpoint`) to `out`.

    The training config (the workdir's config.json) goes into the metadata.
    Returns `(metadata, checkpoint_path)`.
    """
    if checkpoint is None:
        if workdir is None:
            raise GanzooError("nothing to export; accepted: --workdir=RUN or "
                              "--checkpoint=FILE.keras")
        if not os.path.isdir(workdir):
            raise GanzooError(f"no such workdir: {workdir}")
        check_replaceable(out)  # fail before loading the checkpoint
        # The newest checkpoint that loads: a damaged newer one is skipped, and logged.
        model, checkpoint = checkpoints.load_latest(workdir)
    else:
        if workdir is None:
            # RUN/checkpoints/ckpt-N.keras: the run's config is two levels up.
            parent = os.path.dirname(os.path.dirname(os.path.abspath(checkpoint)))
            workdir = parent if os.path.isfile(os.path.join(parent, "config.json")) else None
        check_replaceable(out)
        model = checkpoints.load_model(checkpoint)
    extra = dict(metadata or {})
    if workdir is not None and "train_config" not in extra:
        extra["train_config"] = checkpoints.read_run_config(workdir)
    extra.setdefault("checkpoint", os.path.abspath(checkpoint))
    return export_generator(model, out, extra), checkpoint


# -- command line --------------------------------------------------------------------


def make_flags():
    fv = cli.new_flags()
    flags.DEFINE_string("workdir", None, "A training run directory: its newest checkpoint that "
                        "loads, and its config.json.", flag_values=fv)
    flags.DEFINE_string("checkpoint", None, "A .keras checkpoint to export instead.",
                        flag_values=fv)
    flags.DEFINE_string("out", None, "Output: the SavedModel directory to write (replaced if it "
                        "holds an earlier export).", flag_values=fv)
    return fv


def _run(fv):
    out = fv["out"].value
    if not out:
        raise GanzooError("missing --out; accepted: --out=PATH, the SavedModel directory to write")
    meta, checkpoint = export_workdir(out, fv["workdir"].value, fv["checkpoint"].value)
    print(f"exported the {meta['model']} generator (step {meta['steps']}) from {checkpoint} "
          f"to {out} ({variables_bytes(out) / 1e6:.2f} MB of variables)")


main = cli.command(make_flags, _run, "python -m ganzoo.export")


if __name__ == "__main__":
    sys.exit(main())
