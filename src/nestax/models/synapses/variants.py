"""NEST's ``_hpc`` and ``_lbl`` variants of the synapse models (NEST: every connection model comes
in these flavours).

- ``<model>_hpc``: the same dynamics, stored more compactly in NEST (its connections address their
  targets by thread-local index). In nestax it is the model itself under NEST's name.
- ``<model>_lbl``: the same dynamics plus an integer parameter ``synapse_label`` (default -1), given
  per connection at connect time and used to select connections:
  ``sim.connections(synapse_label=3)``.

Each variant is a subclass of its model, so it keeps its own shared values where the model has
them (a ``_hom`` model's parameters are model-wide per variant, as NEST's are per model) and its
name appears in ``connections().get("synapse_model")``.
"""
from __future__ import annotations

from ..base import Param
from ..registry import _MODELS, register
from . import (bernoulli, clopath, cont_delay, eprop, eprop_bsshslm, short_term, static, stdp,  # noqa: F401
               stdp_dopamine, stdp_more, stdp_variants, tsodyks, urbanczik)  # (they register the models)

#: NEST 3.10's synapse models with _hpc and _lbl variants that nestax has
BASES = ("bernoulli_synapse", "clopath_synapse", "cont_delay_synapse", "stdp_dopamine_synapse", "urbanczik_synapse",
         "ht_synapse", "jonke_synapse", "quantal_stp_synapse", "static_synapse",
         "static_synapse_hom_w", "stdp_facetshw_synapse_hom", "stdp_nn_pre_centered_synapse",
         "stdp_nn_restr_synapse", "stdp_nn_symm_synapse", "stdp_pl_synapse_hom", "stdp_synapse",
         "stdp_synapse_hom", "stdp_triplet_synapse", "tsodyks2_synapse", "tsodyks_synapse", "tsodyks_synapse_hom",
         "vogels_sprekeler_synapse")

LABEL = Param(-1, "1", "Label of the connection, for selecting it (connections(synapse_label=...))", "int")


def _variant(base, suffix: str):
    extra = {"synapse_label": LABEL} if suffix == "_lbl" else {}
    what = ("with a synapse_label parameter" if suffix == "_lbl"
            else "under NEST's name for its compact storage; the same model in nestax")
    doc = f"{base.name} {what} (NEST: {base.name}{suffix}).\n\n{base.__doc__ or ''}"
    return register(type(base.__name__ + suffix, (base,),
                         {"name": base.name + suffix, "parameters": {**base.parameters, **extra}, "__doc__": doc,
                          "__module__": __name__}))


#: models NEST 3.10 has only an _hpc variant of
HPC_ONLY = ("eprop_synapse", "eprop_synapse_bsshslm_2020")

for _name in BASES:
    for _suffix in ("_hpc", "_lbl"):
        _variant(_MODELS[_name], _suffix)
for _name in HPC_ONLY:
    _variant(_MODELS[_name], "_hpc")
