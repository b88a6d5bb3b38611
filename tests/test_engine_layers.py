"""The layered engine: no model is known by name, capabilities are declared, set is transactional,
importing nestax changes no JAX setting, rule objects take rule keywords."""
import ast
import json
import os
import pathlib
import subprocess
import sys

import brainunit as u
import numpy as np
import pytest

import nestax as nx
from nestax.models.base import ProtocolError
from nestax.models.registry import _MODELS

SRC = pathlib.Path(nx.__file__).parent


def _name_uses(path):
    """String constants equal to a registered model name (outside message f-strings), and
    comparisons with a ``.name`` attribute, in the file ``path``."""
    tree = ast.parse(path.read_text())
    in_fstring = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in ast.walk(n)}
    hits = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in _MODELS and id(n) not in in_fstring:
            hits.append(f"{path.name}:{n.lineno}: {n.value!r}")
        if isinstance(n, ast.Compare):
            for side in [n.left, *n.comparators]:
                if isinstance(side, ast.Attribute) and side.attr == "name":
                    hits.append(f"{path.name}:{n.lineno}: compares .name")
    return hits


def test_engine_lowering_and_facade_never_name_a_model():
    files = sorted((SRC / "engine").glob("*.py")) + sorted((SRC / "recording").glob("*.py")) + [SRC / "simulator.py"]
    hits = [h for f in files for h in _name_uses(f)]
    assert not hits, hits
    # the network layer may name NEST's default synapse, and nothing else
    net_hits = [h for f in sorted((SRC / "network").glob("*.py")) for h in _name_uses(f)]
    assert all(h.endswith("'static_synapse'") for h in net_hits), net_hits


def test_engine_does_not_import_model_files():
    for f in sorted((SRC / "engine").glob("*.py")):
        tree = ast.parse(f.read_text())
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom) and n.module:
                assert "models" not in n.module, f"{f.name} imports {n.module}"


def test_undeclared_capability_is_an_error_at_class_creation():
    """(Neurons, synapses and generators: tests/test_one_file_model.py.) A recorder must declare
    its direction."""
    from nestax.models.base import Recorder
    with pytest.raises(ProtocolError, match="direction"):
        class no_direction(Recorder):  # noqa: F841
            name = "no_direction"
            stream = "spikes"


def test_every_registered_model_declares_its_protocol():
    kinds = {"neuron", "spike_source", "current_source", "rate_source", "recorder", "synapse"}
    for name, cls in _MODELS.items():
        assert cls.kind in kinds, name
        for attr in cls.required:
            assert hasattr(cls, attr), (name, attr)
        if cls.kind == "neuron":
            assert cls.weight_unit in ("pA", "nS", "uS", "mV", "1", "any"), (name, cls.weight_unit)
            # NEST's archiving nodes (every neuron; not the volume_transmitter, NEST's element_type 'other')
            assert ("tau_minus" in cls.parameters and "tau_minus_triplet" in cls.parameters) == cls.archiving, name


def test_set_is_transactional():
    sim = nx.Simulator(dt=0.1)
    a = sim.create(nx.iaf_psc_alpha, 3)
    b = sim.create(nx.iaf_psc_exp, 2)
    with pytest.raises(nx.UnitError):
        sim.set(a, V_th=-40., V_m=5 * u.nS)
    assert np.all(sim.get(a, "V_th", unit=False) == -55.0)
    assert np.all(sim.get(a, "V_m", unit=False) == -70.0)
    # the second block fails (V_reset >= V_th there only): the first block keeps its values too
    sim.set(b, V_th=-60.)
    with pytest.raises(nx.BadParameterError, match="V_reset"):
        sim.set(a + b, V_reset=-58.)
    assert np.all(sim.get(a, "V_reset", unit=False) == -70.0)
    assert np.all(sim.get(b, "V_reset", unit=False) == -70.0)
    # and a run after the failed set is the run without it
    sim.simulate(1.0)
    sim.set(a, I_e=1000.)
    with pytest.raises(nx.UnknownParameterError):
        sim.set(a, I_e=0., V_tth=1.)
    assert np.all(sim.get(a, "I_e", unit=False) == 1000.0)


_PROBE = """
import json, os, sys
import jax
keys = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs", "jax_enable_x64")
before = {k: getattr(jax.config, k) for k in keys}
import nestax as nx
after_import = {k: getattr(jax.config, k) for k in keys}
nx.Simulator(dt=0.1)
after_sim = {k: getattr(jax.config, k) for k in keys}
print(json.dumps([before, after_import, after_sim]))
"""


def _probe(env_extra=None, prelude=""):
    env = {**os.environ, **(env_extra or {})}
    out = subprocess.run([sys.executable, "-c", prelude + _PROBE], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_nestax_changes_no_jax_setting(tmp_path):
    env = {"NESTAX_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    before, after_import, after_sim = _probe(env)
    assert after_import == before
    assert after_sim["jax_compilation_cache_dir"] == str(tmp_path / "cache")
    # switched off
    before, after_import, after_sim = _probe({"NESTAX_CACHE_DIR": "off"})
    assert after_sim["jax_compilation_cache_dir"] == before["jax_compilation_cache_dir"]
    # a cache the user configured is kept
    mine = str(tmp_path / "mine")
    before, _, after_sim = _probe(env, prelude=f"import jax; jax.config.update('jax_compilation_cache_dir', {mine!r})\n")
    assert after_sim["jax_compilation_cache_dir"] == mine


def test_rule_object_takes_rule_keywords():
    sim = nx.Simulator(dt=0.1, seed=2)
    a = sim.create(nx.iaf_psc_alpha, 5)
    b = sim.create(nx.iaf_psc_alpha, 4)
    sim.connect(a, b, rule=nx.fixed_indegree(5), allow_multapses=False)
    c = sim.connections(a, b)
    assert len(c) == 20
    for t in np.unique(c.targets):  # indegree 5 from 5 sources without multapses: each source once
        assert sorted(c.sources[c.targets == t].tolist()) == a.tolist()
    with pytest.raises(nx.BadParameterError, match="indegree = 3 given beside the rule object"):
        sim.connect(a, b, rule=nx.fixed_indegree(5), indegree=3)


def test_weight_unit_check_does_not_depend_on_target_order():
    """One connect onto models with different weight units: a weight with a unit is refused (whatever
    the order of the models), plain numbers are each model's unit."""
    for order in (0, 1):
        sim = nx.Simulator(dt=0.1)
        m = [sim.create(nx.iaf_psc_delta), sim.create(nx.iaf_psc_alpha)]
        both = m[order] + m[1 - order]
        src = sim.create(nx.parrot_neuron)
        with pytest.raises(nx.ConnectionError_, match="different units"):
            sim.connect(src, both, weight=5. * u.pA)
        sim.connect(src, both, weight=5.)
        assert len(sim.connections(src)) == 2
