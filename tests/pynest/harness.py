"""Run one of NEST 3.10's own PyNEST example scripts (shipped with the nest-simulator package) in NEST
and, with only its import lines changed, in nestax.nest; compare what both left behind."""
from __future__ import annotations

import os
import pathlib
import re
import tempfile

import numpy as np


def examples_dir() -> pathlib.Path:
    import nest
    return pathlib.Path(nest.__file__).parent / "doc" / "examples" / "pynest"


def nestax_source(src: str) -> str:
    """The script with its import lines changed: ``import nest`` -> ``import nestax.nest as nest``,
    ``import nest.raster_plot`` -> ``import nestax.nest.raster_plot``."""
    src = re.sub(r"^(\s*)import nest\s*$", r"\1import nestax.nest as nest", src, flags=re.M)
    return re.sub(r"^(\s*)import nest\.(\w+)\s*$", r"\1import nestax.nest.\2", src, flags=re.M)


def run_example(name: str, which: str, subs=()) -> dict:
    """Execute example ``name`` in NEST (``which='nest'``) or nestax; ``subs``: (old, new) text
    replacements that scale a long example down (the same for both). Returns its globals."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    src = (examples_dir() / f"{name}.py").read_text()
    for old, new in subs:
        assert old in src, f"{name}: {old!r} not in the script"
        src = src.replace(old, new)
    if which == "nestax":
        src = nestax_source(src)
        import nestax.nest as kernel
    else:
        import nest as kernel
    kernel.ResetKernel()  # a fresh kernel, as a script started on its own gets (some examples do not reset)
    g = {"__name__": "__main__"}
    show = plt.show
    plt.show = lambda *a, **k: None
    cwd = os.getcwd()
    tmp = tempfile.TemporaryDirectory()
    os.chdir(tmp.name)  # the files an example writes (record_to 'ascii') go to a scratch directory
    try:
        exec(compile(src, f"{name}[{which}]", "exec"), g)
        # what the script drew: per figure, per axes (lines, images, collections, patches)
        g["__drawn__"] = [[(len(ax.lines), len(ax.images), len(ax.collections), len(ax.patches) > 0)
                           for ax in plt.figure(num).axes] for num in plt.get_fignums()]
    finally:
        plt.show = show
        plt.close("all")
        os.chdir(cwd)
        g["__tmp__"] = tmp  # removed when the namespace goes (files the test may still read)
    return g


def recorder_events(g: dict, name: str) -> dict:
    """The events dict of the recorder stored in global ``name`` (NEST's or nestax's)."""
    ev = g[name].get("events")
    return {k: np.asarray(v) for k, v in ev.items()}
