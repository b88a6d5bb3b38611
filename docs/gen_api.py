"""Writes docs/api.md, the API reference, from the docstrings: python docs/gen_api.py

(tests/test_docs.py checks that the committed page is what this script writes.)"""
from __future__ import annotations

import inspect
import pathlib
import textwrap

import nestax
import nestax.functional
import nestax.nest
import nestax.plot
import nestax.random
import nestax.spatial
import nestax.spatial_distributions
from nestax.nodes import NodeCollection
from nestax.recording.result import Connections, Result
from nestax.simulator import Simulator

OUT = pathlib.Path(__file__).with_name("api.md")


def _doc(obj) -> str:
    d = inspect.getdoc(obj) or ""
    return textwrap.indent(d, "") if d else "*(no docstring)*"


def _sig(name, obj) -> str:
    try:
        return f"{name}{inspect.signature(obj)}"
    except (TypeError, ValueError):
        return name


def _members(cls):
    for name, obj in cls.__dict__.items():
        if name.startswith("_"):
            continue
        if isinstance(obj, property):
            yield name, obj, True
        elif inspect.isfunction(obj) or isinstance(obj, (classmethod, staticmethod)):
            yield name, getattr(cls, name), False


def klass(cls, title=None) -> list:
    lines = [f"## {title or cls.__name__}", "", f"`{_sig(cls.__name__, cls)}`", "", _doc(cls), ""]
    for name, obj, is_prop in _members(cls):
        lines += [f"### `{cls.__name__}.{name if is_prop else _sig(name, obj)}`", "", _doc(obj), ""]
    return lines


def module(mod, names, title) -> list:
    lines = [f"## {title}", "", _doc(mod), ""]
    for name in names:
        obj = getattr(mod, name)
        if inspect.isclass(obj):
            lines += [f"### `{_sig(mod.__name__.split('.')[-1] + '.' + name, obj)}`", "", _doc(obj), ""]
        else:
            lines += [f"### `{_sig(name, obj)}`", "", _doc(obj), ""]
    return lines


def render() -> str:
    lines = ["# API reference", "", "Generated from the docstrings by `python docs/gen_api.py`.", ""]
    lines += klass(Simulator, "nestax.Simulator")
    lines += klass(Result, "Result (what `simulate` returns)")
    lines += klass(Connections, "Connections (what `sim.connections` returns)")
    lines += klass(NodeCollection, "NodeCollection")
    lines += klass(nestax.Batch, "nestax.Batch (batched runs)")
    lines += klass(nestax.BatchResult, "BatchResult (what `Batch.simulate` returns)")
    lines += module(nestax.random, [n for n in nestax.random.__all__ if n != "Distribution"], "nestax.random")
    lines += module(nestax.plot, [n for n, o in vars(nestax.plot).items()
                                  if inspect.isfunction(o) and not n.startswith("_") and o.__module__ == "nestax.plot"],
                    "nestax.plot")
    lines += module(nestax.spatial, ["grid", "free", "mask", "rectangular", "circular", "doughnut", "elliptical", "box",
                                     "spherical", "ellipsoidal", "exp", "min", "max", "get_position", "displacement",
                                     "distance_between", "find_nearest", "find_center"], "nestax.spatial")
    lines += module(nestax.spatial_distributions, nestax.spatial_distributions.__all__, "nestax.spatial_distributions")
    lines += module(nestax.functional, nestax.functional.__all__, "nestax.functional (models as plain functions)")
    lines += module(nestax.gradients, ["as_function", "SimFunction", "Outputs"], "nestax.gradients (differentiable runs)")
    lines += module(nestax.surrogate, ["Surrogate", "spike_fn"], "nestax.surrogate (surrogate spike derivatives)")
    lines += module(nestax.nest, ["ResetKernel", "SetKernelStatus", "GetKernelStatus", "Create", "Connect",
                                  "GetConnections", "GetStatus", "SetStatus", "Simulate", "Run", "GetDefaults",
                                  "SetDefaults", "CopyModel", "Models"], "nestax.nest (PyNEST's interface)")
    return "\n".join(lines).rstrip() + "\n"


def main():
    OUT.write_text(render())


if __name__ == "__main__":
    main()
