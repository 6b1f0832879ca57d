"""What every `python -m ganzoo.<command>` shares: flag parsing and error handling.

Each command owns a `flags.FlagValues`, so commands can be called in-process
(`main(argv)` returns the exit code) without fighting over absl's globals.
A `GanzooError` or bad flag prints one line and exits 2; any other failure
prints one line and exits 1; a run stopped by a signal (`Interrupted`) prints
one line and exits 128 + the signal's number. `--verbose` shows the traceback.
"""

import sys
import traceback

from absl import flags, logging

from ganzoo.errors import GanzooError, Interrupted


def one_line(text):
    """`text` with control characters escaped, so an error is exactly one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def new_flags():
    flag_values = flags.FlagValues()
    flags.DEFINE_bool("verbose", False, "Show tracebacks and debug logs.", flag_values=flag_values)
    return flag_values


def define_deprecated(flag_values, old, new):
    """`--old` as a deprecated alias of `--new`: it sets `--new`, and using it
    prints one line saying to use `--new` instead (see `warn_deprecated`)."""
    flags.DEFINE_alias(old, new, flag_values=flag_values)
    flag_values[old].help = f"Deprecated: use --{new} (the same setting)."
    flag_values[old].replaced_by = new


def warn_deprecated(flag_values):
    """One line on stderr per deprecated alias given; an alias given together with
    the flag it replaces is refused (one of them would be silently dropped)."""
    for name in flag_values:
        new = getattr(flag_values[name], "replaced_by", None)
        if new is None or not flag_values[name].present:
            continue
        if flag_values[new].present > flag_values[name].present:
            raise GanzooError(f"--{name} and --{new} given together: --{name} is the old name "
                              f"of --{new}; accepted: --{new} alone")
        print(f"warning: --{name} is deprecated; use --{new} instead", file=sys.stderr)


def given(flag_values, name):
    """Whether `--name` was given on the command line (`--nofoo` does not count)."""
    flag = flag_values[name]
    return bool(flag.present) and flag.value is not False


def refuse_together(flag_values, conflicts):
    """Refuse, in one line, the first `(a, b, why, accepted)` of `conflicts` whose flags
    were both given. Each pair is one where a flag would otherwise be silently ignored."""
    for a, b, why, accepted in conflicts:
        if given(flag_values, a) and given(flag_values, b):
            raise GanzooError(f"--{a} and --{b} given together: {why}; accepted: {accepted}")


def run(flag_values, body, argv=None, prog="ganzoo"):
    """Parse `argv` into `flag_values`, call `body(flag_values)`, return an exit code."""
    argv = list(sys.argv if argv is None else [prog, *argv])
    if any(arg in ("-h", "--help", "--helpfull", "--helpshort") for arg in argv[1:]):
        print(f"usage: {prog} [flags]\n\n{flag_values.get_help()}")
        return 0
    try:
        extra = flag_values(argv)
    except flags.Error as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2
    if len(extra) > 1:
        print(f"error: unexpected argument {one_line(repr(extra[1]))}; accepted: --flag=value only",
              file=sys.stderr)
        return 2
    verbose = flag_values["verbose"].value
    logging.set_verbosity(logging.DEBUG if verbose else logging.INFO)
    try:
        warn_deprecated(flag_values)
        body(flag_values)
    except GanzooError as e:
        if verbose:
            traceback.print_exc()
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2
    except Interrupted as e:  # a signal, with the work saved: say where, exit 128 + signal
        print(one_line(e), file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 (any other fault: still one line)
        if verbose:
            traceback.print_exc()
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        print(f"error: {type(e).__name__}: {one_line(first)} (rerun with --verbose for the "
              "traceback)", file=sys.stderr)
        return 1
    return 0


def command(make_flags, body, prog):
    """A command's `main(argv=None) -> exit code`: fresh flags, then `run`.

    `prog` names the command in its usage line; `ganzoo SUBCOMMAND` passes its own.
    """

    def main(argv=None, prog=prog):
        return run(make_flags(), body, argv, prog=prog)

    main.make_flags = make_flags  # so tests can read every command's flags and help
    return main
