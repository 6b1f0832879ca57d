"""`Hyperparameter`: a model setting declared once, with its default, rule and doc.

Each model class declares its own in `HYPERPARAMETERS`; a subclass adds new
ones and may change an inherited default by giving a plain value:

    class WGANGP(GAN):
        HYPERPARAMETERS = declare(
            n_critic=Hyperparameter(5, checks.positive_int, "critic updates per step"),
            learning_rate=1e-4,  # the base's rule and doc, the paper's default
        )

The constructor, `get_config`, `--set` validation and the help text all read
the merged declaration, so a setting cannot be accepted without a rule.
"""

import dataclasses
import types

from ganzoo import checks


@dataclasses.dataclass(frozen=True)
class Hyperparameter:
    default: object
    rule: checks.Rule
    doc: str
    # How `--set` parses a value when the default (None) does not say, e.g. tuple.
    kind: type | None = None

    def __post_init__(self):
        if not isinstance(self.rule, checks.Rule):
            raise TypeError(f"hyperparameter rule must be a checks.Rule, got {self.rule!r}")
        if not self.doc:
            raise TypeError("hyperparameter needs a doc string")


def declare(**hyperparameters):
    """A class's `HYPERPARAMETERS`: new `Hyperparameter`s, or new defaults for inherited ones."""
    return types.MappingProxyType(hyperparameters)


def merge(classes):
    """The declarations of `classes` (base first), later ones overriding."""
    merged = {}
    for klass in classes:
        for name, value in vars(klass).get("HYPERPARAMETERS", {}).items():
            if isinstance(value, Hyperparameter):
                merged[name] = value
            elif name in merged:
                merged[name] = dataclasses.replace(merged[name], default=value)
            else:
                raise TypeError(
                    f"{klass.__name__}.HYPERPARAMETERS[{name!r}] changes the default of a "
                    "hyperparameter no base class declares; declare it with Hyperparameter(...)"
                )
    return merged
