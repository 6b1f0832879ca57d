"""Rules for values a user sets: a test and the words for what it accepts.

One rule serves a model hyperparameter, a config field and a command-line flag
alike, so every refusal reads the same way:

    positive_int.check("batch_size", 0)
    # GanzooError: bad batch_size=0; accepted: a positive integer
"""

import math
import numbers

from ganzoo.errors import GanzooError, check_choice


class Rule:
    """`test(value) -> bool` and `accepted`, the words for the values it takes."""

    def __init__(self, test, accepted):
        self.test = test
        self._accepted = accepted

    @property
    def accepted(self):
        return self._accepted() if callable(self._accepted) else self._accepted

    def __call__(self, value):
        try:
            return bool(self.test(value))
        except (TypeError, ValueError):
            return False

    def check(self, name, value, what=""):
        """`value`, or a `GanzooError` naming `name`, the value and what is accepted."""
        if not self(value):
            raise GanzooError(f"bad {what}{name}={value!r}; accepted: {self.accepted}")
        return value

    def or_none(self, words="or None"):
        """The same rule, also accepting `None`."""
        return Rule(lambda v: v is None or self(v), lambda: f"{self.accepted} {words}")

    def __repr__(self):
        return f"Rule({self.accepted!r})"


def is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value):
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def int_at_least(low):
    words = "a positive integer" if low == 1 else f"an integer >= {low}"
    return Rule(lambda v: is_int(v) and v >= low, words)


def int_from_to(low, high):
    return Rule(lambda v: is_int(v) and low <= v <= high, f"an integer from {low} to {high}")


def number_in(low=None, high=None, closed=(True, True)):
    """Finite numbers within [low, high] (each end open where `closed` says so)."""

    def test(v):
        if not is_number(v):
            return False
        above = low is None or (v >= low if closed[0] else v > low)
        below = high is None or (v <= high if closed[1] else v < high)
        return above and below

    if high is None:
        words = f"a number {'>=' if closed[0] else '>'} {low}"
    else:
        words = f"a number in {'[' if closed[0] else '('}{low}, {high}{']' if closed[1] else ')'}"
    return Rule(test, words)


def one_of(*choices):
    return Rule(lambda v: v in choices, ", ".join(map(str, choices)))


class Choice(Rule):
    """One of a list of names, which may be computed when checked (say, the
    registered models). Refusals read "unknown KIND 'x'; accepted: a, b"."""

    def __init__(self, kind, choices):
        self.kind = kind
        self._choices = choices
        super().__init__(lambda v: v in self.choices(), lambda: ", ".join(map(str, self.choices())))

    def choices(self):
        return list(self._choices() if callable(self._choices) else self._choices)

    def check(self, name, value, what=""):
        return check_choice(self.kind, value, self.choices())


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)
boolean = Rule(lambda v: isinstance(v, bool), "true or false")
auto_or_boolean = Rule(lambda v: isinstance(v, bool) or v == "auto", "auto, true or false")
name = Rule(lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty name")
text = Rule(lambda v: isinstance(v, str), "a string")
widths = Rule(
    lambda v: isinstance(v, (tuple, list)) and len(v) > 0 and all(is_int(w) and w > 0 for w in v),
    "one or more positive integers, e.g. 512,512",
)
probability = number_in(0, 1, closed=(True, False))
