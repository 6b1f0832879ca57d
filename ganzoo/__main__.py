"""The `ganzoo` command: `ganzoo SUBCOMMAND [--flag=value ...]`.

    ganzoo train --model=wgan_gp
    ganzoo sample --workdir=runs/wgan_gp-digits --out=g.png
    ganzoo evaluate --workdir=runs/wgan_gp-digits

Each subcommand runs exactly what `python -m ganzoo.SUBCOMMAND` runs (its
`main`); `python -m ganzoo SUBCOMMAND` works too. `ganzoo SUBCOMMAND --help`
lists that subcommand's flags.
"""

import importlib
import sys

import ganzoo

# name: what it does, for the usage text. Each is the module ganzoo.<name>.
SUBCOMMANDS = {
    "train": "train a model (resumes from the run directory's last checkpoint)",
    "sample": "write samples of a run, an export or a pretrained model as a PNG",
    "evaluate": "score a run, an export or a pretrained model (FID, KID, ...)",
    "export": "write a run's generator as a SavedModel directory",
    "compare": "train and score several models under one protocol",
}


def usage():
    width = max(map(len, SUBCOMMANDS))
    lines = ["usage: ganzoo SUBCOMMAND [--flag=value ...]", "", "subcommands:"]
    lines += [f"  {name:<{width}}  {what}" for name, what in SUBCOMMANDS.items()]
    lines += ["", "`ganzoo SUBCOMMAND --help` lists a subcommand's flags."]
    return "\n".join(lines)


def main(argv=None):
    """Dispatch `argv` (default `sys.argv[1:]`) to a subcommand; its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(f"error: unknown subcommand {name!r}; accepted: {', '.join(SUBCOMMANDS)}",
              file=sys.stderr)
        return 2
    # The console script is not `python -m`, so ganzoo/__init__ left TF's start-up
    # chatter alone; a command's stderr must be its own one-line errors.
    ganzoo._import_tensorflow_quietly()
    command = importlib.import_module(f"ganzoo.{name}")
    return command.main(rest, prog=f"ganzoo {name}")


if __name__ == "__main__":
    sys.exit(main())
