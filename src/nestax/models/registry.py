"""Model registry: NEST name string -> model class."""
from __future__ import annotations

from ..errors import UnknownModelError, did_you_mean

_MODELS: dict = {}


def register(cls):
    cls.finalize()  # parameter tables set after class creation (rate neurons) are completed too
    _MODELS[cls.name] = cls
    return cls


def lookup(name: str):
    try:
        return _MODELS[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}.{did_you_mean(name, _MODELS)} Available models: {', '.join(sorted(_MODELS))}."
        ) from None


def models() -> list:
    return sorted(_MODELS)
