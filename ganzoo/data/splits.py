"""TFDS-style split slicing for every source: ``train[:90%]``, ``test[10%:20%]``.

A split is a name, optionally followed by ``[a:b]``: ``a`` and ``b`` are both
integers (example counts) or both percentages, each optional, a negative one
counting from the end, as in TFDS. Percentages round to the nearest example
(``round(p * n / 100)``, TFDS's default), so ``train[:90%]`` and
``train[90%:]`` always partition ``train``.
"""

import dataclasses
import re

from ganzoo.errors import GanzooError

_SPLIT_RE = re.compile(r"^(?P<base>[\w-]+)(?:\[(?P<start>[^\]:]*):(?P<stop>[^\]:]*)\])?$")
_BOUND_RE = re.compile(r"^(?P<value>-?\d+(?:\.\d+)?)(?P<percent>%?)$")
EXAMPLES = "e.g. train[:90%], train[90%:], train[:1000], test[10%:20%]"


@dataclasses.dataclass(frozen=True)
class Split:
    """A parsed split: the base split's name and an optional slice of it."""

    text: str  # as written
    base: str
    start: float | None = None  # None: from the beginning
    stop: float | None = None  # None: to the end
    percent: bool = False

    @property
    def sliced(self):
        return self.start is not None or self.stop is not None

    def bounds(self, n, name):
        """`(start, stop)` example indices of this slice of a base split of `n`."""
        if not self.sliced:
            return 0, n
        start = self._index(self.start, 0, n, name)
        stop = self._index(self.stop, n, n, name)
        if start >= stop:
            raise GanzooError(
                f"split {self.text!r} of {name} selects no examples (its {self.base!r} split"
                f" holds {n}); accepted: a slice [a:b] with a before b, {EXAMPLES}"
            )
        return start, stop

    def _index(self, bound, default, n, name):
        if bound is None:
            return default
        index = round(bound * n / 100.0) if self.percent else int(bound)
        if abs(index) > n:
            raise GanzooError(
                f"split {self.text!r} of {name} reaches past its {n} {self.base!r} examples;"
                f" accepted: integer bounds from -{n} to {n} or percentages from -100% to 100%"
            )
        return n + index if index < 0 else index


def parse(text, name, bases):
    """The `Split` that `text` (e.g. ``train[:90%]``) writes, for dataset `name`
    whose base splits are `bases`."""
    match = _SPLIT_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise _bad_split(text, name, bases)
    if match["base"] not in bases:
        raise GanzooError(
            f"unknown split for {name}: {text!r}; available splits: {', '.join(bases)};"
            f" accepted: one of them, optionally sliced, {EXAMPLES}"
        )
    if match["start"] is None:
        return Split(text, match["base"])
    parts = (match["start"], match["stop"])
    bounds = [_BOUND_RE.match(part) if part else None for part in parts]
    written = [bound for bound, part in zip(bounds, parts) if part]
    if not written or None in written or len({b["percent"] for b in written}) > 1:
        raise _bad_split(text, name, bases)  # nothing, something else, or counts mixed with %
    percent = written[0]["percent"] == "%"
    if not percent and any("." in b["value"] for b in written):
        raise _bad_split(text, name, bases)
    start, stop = (float(b["value"]) if b else None for b in bounds)
    return Split(text, match["base"], start, stop, percent)


def _bad_split(text, name, bases):
    return GanzooError(
        f"bad split {text!r} for {name}; accepted: NAME or NAME[a:b] with NAME one of"
        f" {', '.join(bases)} and a, b both integers (examples) or both percentages, each"
        f" optional, negative counting from the end, {EXAMPLES}"
    )
