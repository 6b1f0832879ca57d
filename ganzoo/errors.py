"""User-facing errors.

Anything a user can get wrong (a name, a flag, a file) raises `GanzooError` with a
one-line message that names the bad value and what is accepted. The command-line
entry points print that line and exit non-zero instead of showing a traceback.
"""


class GanzooError(ValueError):
    """A one-line, user-facing error about bad input or an unusable file."""


def check_choice(kind, value, accepted):
    """Raise `GanzooError` unless `value` is one of `accepted`."""
    accepted = list(accepted)
    if value not in accepted:
        raise GanzooError(
            f"unknown {kind} {value!r}; accepted: {', '.join(map(str, accepted))}"
        )
    return value
