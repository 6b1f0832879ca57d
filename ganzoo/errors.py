"""User-facing errors and the one-line text they print.

Anything a user can get wrong (a name, a flag, a file) raises `GanzooError` with a
one-line message that names the bad value and what is accepted. The command-line
entry points print that line and exit non-zero instead of showing a traceback.
"""


class GanzooError(ValueError):
    """A one-line, user-facing error about bad input or an unusable file."""


class Interrupted(KeyboardInterrupt):
    """A run stopped cleanly on a signal (SIGTERM, SIGINT), its work saved.

    The text is the one line a command prints; `exit_code` is the conventional
    128 + the signal's number. A `KeyboardInterrupt`, so generic `except
    Exception` handlers let it through, as they do Ctrl-C.
    """

    def __init__(self, message, signum):
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + int(signum)


def one_line(text):
    """`text` with control characters escaped, so an error is exactly one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def first_line(error, limit=None):
    """The first non-empty line of an exception's text, or its type's name.

    Errors from deep inside a library can span pages; a message built on one
    keeps only what names the problem.
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def os_reason(error):
    """The reason an `OSError` gives ("No space left on device"), or its text."""
    return getattr(error, "strerror", None) or first_line(error)


def check_choice(kind, value, accepted):
    """Raise `GanzooError` unless `value` is one of `accepted`."""
    accepted = list(accepted)
    if value not in accepted:
        raise GanzooError(
            f"unknown {kind} {value!r}; accepted: {', '.join(map(str, accepted))}"
        )
    return value
