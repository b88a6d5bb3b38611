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


class NodeCollectionError(NestaxError, ValueError):
    """Joining or selecting nodes that do not fit together (different Simulators, shared nodes)."""


class ForeignNodesError(NodeCollectionError, TypeError):
    """A NodeCollection used with a Simulator it does not belong to."""


class NodeIndexError(NestaxError, IndexError):
    """A node index outside the collection."""


class RecorderError(NestaxError, ValueError):
    """A Result accessor given a node that is not a recorder of the right kind."""


class ReadOnlyError(BadParameterError):
    """A state variable that NEST does not let users set: one the model computes (read-only in
    NEST) or keeps for its own bookkeeping (a refractory counter, an integrator's step size)."""


class MemoryLimitError(NestaxError, MemoryError):
    """A request that needs more memory than the machine has available, refused before allocating."""


def did_you_mean(name: str, options: Iterable[str]) -> str:
    options = list(dict.fromkeys(str(o) for o in options))   # unique, order kept
    close = difflib.get_close_matches(str(name), options, n=3, cutoff=0.5)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"


def _model_class(model):
    """The model class for a model name (or class), or None if it is not a registered model."""
    if isinstance(model, type):
        return model
    try:
        from .models.registry import _MODELS
    except Exception:  # pragma: no cover - during import
        return None
    return _MODELS.get(str(model))


def unknown_parameter(model, name: str, options: Iterable[str]) -> UnknownParameterError:
    """Error for an unknown parameter ``name`` of ``model`` (a model name or class).

    ``options`` are the names the caller accepts. For a registered model they are split into its
    parameters and its user-visible state variables (its recordables); internal state such as a
    refractory counter is neither suggested nor listed.
    """
    cls = _model_class(model)
    mname = getattr(cls, "name", None) or str(model)
    options = list(dict.fromkeys(options))
    if cls is not None:
        try:
            public_state = set(cls.recordables())
        except Exception:  # pragma: no cover
            public_state = set(getattr(cls, "state", {}))
        params = [o for o in options if o in cls.parameters]
        state = [o for o in options if o in getattr(cls, "state", {}) and o in public_state]
        rest = [o for o in options if o not in cls.parameters and o not in getattr(cls, "state", {})]
        params += rest
    else:
        params, state = options, []
    hint = did_you_mean(name, params + state)
    if not params and not state:
        known = f" {mname} has no parameters."
    else:
        known = f" Known parameters: {', '.join(sorted(params))}." if params else f" {mname} has no parameters."
        if state:
            known += f" State variables: {', '.join(state)}."
    return UnknownParameterError(f"{mname}: unknown parameter {name!r}.{hint}{known}")


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_only(cls, name: str, value) -> ReadOnlyError:
    """Error for a ``create`` / ``set`` of a state variable ``name`` that model ``cls`` does not let
    users set (see ``Model.settable``)."""
    settable = list(cls.settable())
    ok = (f"The state variables of {cls.name} that can be set: {', '.join(settable)}." if settable
          else f"None of the state variables of {cls.name} can be set.")
    if name in cls.recordables():
        why = "is read-only: the model computes it (NEST refuses to set it too)"
    else:
        why = "is internal bookkeeping of the model, not a NEST parameter or state variable"
    return ReadOnlyError(f"{cls.name}: cannot set {name!r} = {_short(value)}: {name!r} {why}. {ok}")
