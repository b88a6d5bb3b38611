"""Error types and message helpers.

Every error names the model, the parameter, the offending value and what was expected, so that a
user can fix the script without reading nestax's source.
"""
from __future__ import annotations

import difflib
from typing import Iterable


class NestaxError(Exception):
    """Base class of all nestax errors."""


class UnknownModelError(NestaxError, KeyError):
    def __str__(self):  # KeyError would repr() the message
        return self.args[0]


class UnknownParameterError(NestaxError, KeyError):
    def __str__(self):
        return self.args[0]


class BadParameterError(NestaxError, ValueError):
    pass


class UnitError(NestaxError, TypeError):
    pass


class ConnectionError_(NestaxError, ValueError):
    pass


def did_you_mean(name: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(name), list(options), n=3, cutoff=0.5)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"


def unknown_parameter(model: str, name: str, options: Iterable[str]) -> UnknownParameterError:
    options = sorted(options)
    return UnknownParameterError(
        f"{model}: unknown parameter {name!r}.{did_you_mean(name, options)} "
        f"Known parameters: {', '.join(options)}."
    )
