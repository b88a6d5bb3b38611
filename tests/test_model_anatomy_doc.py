"""docs/model_anatomy.md runs: every ```python block, in order, in one namespace.

The page's examples define and register demo models (lif_demo, pulse_train, ramp_demo, halving_demo),
run them and end in their own assert statements. The registry is swapped for a copy during the test, so
the demo models never join the catalog other tests enumerate (test_catalog_sweep classifies every
registered spiking model). The plain fences of the izhikevich walk-through quote the model's source:
each quoted line must still be in src/nestax/models/neurons/izhikevich.py.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from nestax.models import registry

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "model_anatomy.md"
FENCE = re.compile(r"^```([A-Za-z]*)\n(.*?)^```$", re.S | re.M)


def blocks(text, lang):
    return [m.group(2) for m in FENCE.finditer(text) if m.group(1) == lang]


def test_python_blocks_run_in_order(monkeypatch):
    monkeypatch.setattr(registry, "_MODELS", dict(registry._MODELS))
    code = blocks(DOC.read_text(), "python")
    assert len(code) >= 5
    ns = {"__name__": "model_anatomy_doc"}
    for i, src in enumerate(code):
        exec(compile(src, f"{DOC.name}, python block {i + 1}", "exec"), ns)
    # what the blocks computed (their own asserts ran above)
    assert {"lif_demo", "pulse_train", "ramp_demo", "halving_demo"} <= set(registry._MODELS)
    assert ns["lif_demo"].kind == "neuron" and ns["halving_demo"].plastic
    assert np.isclose(float(ns["s1"]["V_m"][0]), -63.3)
    assert np.isclose(float(np.asarray(ns["sim"].connections(ns["parrot"], ns["post"]).weights)[0]), 1.0)


def test_demo_models_left_the_registry_alone():
    assert not {"lif_demo", "pulse_train", "ramp_demo", "halving_demo"} & set(registry._MODELS)


def test_izhikevich_quotes_match_the_source():
    text = DOC.read_text()
    section = text.split("## A real model: izhikevich", 1)[1].split("\n## ", 1)[0]
    source = (ROOT / "src" / "nestax" / "models" / "neurons" / "izhikevich.py").read_text()
    lines = {ln.strip() for ln in source.splitlines()}
    quotes = blocks(section, "")
    assert len(quotes) >= 6
    for q in quotes:
        for ln in q.splitlines():
            assert ln.strip() in lines, f"quoted line not in izhikevich.py: {ln.strip()!r}"
