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
    # NEST's ResetKernel keeps data_path and data_prefix (and ignores data_path = ""): a test that set them
    # earlier in this process, its directory gone since, would make the example's file recorders fail
    kernel.SetKernelStatus({"data_path": tmp.name, "data_prefix": ""})
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


def run_package_example(package: str, which: str, main) -> dict:
    """Run an example shipped as an installed Python package (e.g. ``microcircuit``, the Potjans &
    Diesmann 2014 model that left NEST's examples in 3.9 for its own PyPI package) in NEST or nestax.

    For nestax the package's modules are copied to a scratch directory with their import lines changed
    (``nestax_source``) and imported from there in place of the installed ones; ``main(pkg)`` then
    drives the example, with the current directory a scratch directory, and returns what the test needs."""
    import importlib
    import importlib.util
    import shutil
    import sys
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"package {package!r} is not installed"
    src_dir = pathlib.Path(list(spec.submodule_search_locations)[0])
    tmp = tempfile.TemporaryDirectory()
    saved = {k: sys.modules.pop(k) for k in list(sys.modules) if k == package or k.startswith(package + ".")}
    path0 = list(sys.path)
    cwd = os.getcwd()
    try:
        if which == "nestax":
            dst = pathlib.Path(tmp.name) / "pkg" / package
            shutil.copytree(src_dir, dst, ignore=shutil.ignore_patterns("__pycache__"))
            for f in dst.glob("*.py"):
                f.write_text(nestax_source(f.read_text()))
            sys.path.insert(0, str(dst.parent))
        pkg = importlib.import_module(package)
        if which == "nestax":
            assert pathlib.Path(pkg.__file__).parent == dst, f"{package}: the installed copy was imported"
        os.makedirs(os.path.join(tmp.name, "run"))
        os.chdir(os.path.join(tmp.name, "run"))
        return main(pkg)
    finally:
        os.chdir(cwd)
        plt.close("all")
        sys.path[:] = path0
        for k in [k for k in sys.modules if k == package or k.startswith(package + ".")]:
            del sys.modules[k]
        sys.modules.update(saved)
        tmp.cleanup()
