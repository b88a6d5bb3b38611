"""Model registry: NEST name string -> model class."""
from __future__ import annotations

from ..errors import UnknownModelError, did_you_mean

_MODELS: dict = {}


def register(cls):
    cls.finalize()  # parameter tables set after class creation (rate neurons) are completed too
    _MODELS[cls.name] = cls
    return cls


#: NEST's model templates (rate_neuron_ipn, ...) -> (factory, hint): a name that needs an argument
_TEMPLATES: dict = {}


def register_template(name: str, factory, hint: str):
    _TEMPLATES[name] = (factory, hint)
    return factory


def template(name: str):
    """The factory of model template ``name`` (None: not a template)."""
    return _TEMPLATES[name][0] if name in _TEMPLATES else None


def lookup(name: str):
    try:
        return _MODELS[name]
    except KeyError:
        if name in _TEMPLATES:
            raise UnknownModelError(f"{name!r} is NEST's model template, not a model: {_TEMPLATES[name][1]}") from None
        raise UnknownModelError(
            f"unknown model {name!r}.{did_you_mean(name, _MODELS)} Available models: {', '.join(sorted(_MODELS))}."
        ) from None


def models() -> list:
    return sorted(_MODELS)
