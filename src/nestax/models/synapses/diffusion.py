"""Diffusion connection between Siegert neurons (NEST: diffusion_connection; Hahne et al. 2017).

The mean-field reduction of a network of LIF neurons describes each neuron's input by its mean mu
and variance sigma2. A diffusion_connection adds ``drift_factor x r_pre`` to the target's mu and
``diffusion_factor x r_pre`` to its sigma2 (r_pre: the rate, in Hz, the source sends). It has no
weight and no delay: the target uses the rate the source sends in the same step k (its rate at the
start of the step). NEST computes this instantaneous coupling by waveform relaxation (``use_wfr``,
its default): it iterates each min_delay slice until two iterations differ by less than ``wfr_tol``
(default 1e-4 Hz) and therefore matches the exact coupling that nestax computes directly to about
that tolerance (exactly with a tiny wfr_tol). It connects siegert_neurons only (NEST:
IllegalConnection for any other source or target).
"""
from __future__ import annotations

from ..base import Param, RateConnection
from ..registry import register


@register
class diffusion_connection(RateConnection):
    """Instantaneous drift and diffusion coupling of siegert_neurons (NEST: diffusion_connection).

    The target adds drift_factor x r_pre to its mean input mu and diffusion_factor x r_pre to its
    variance sigma2 in the step the source sends r_pre.

    ================ ==== ======= ===================================================
    drift_factor     1    1.0     Factor of the presynaptic rate in the target's mu
    diffusion_factor 1    1.0     Factor of the presynaptic rate in the target's sigma2
    receptor_type    1    0       0 or 1 (siegert_neuron treats both alike)
    ================ ==== ======= ===================================================

    No delay (giving one is an error, as in NEST). ``weight`` is not used (NEST refuses setting it).
    """

    name = "diffusion_connection"
    rate_kind = "instantaneous"
    rate_event = "diffusion"
    feeds = (("drift_factor", "drift"), ("diffusion_factor", "diffusion"))
    parameters = {
        "weight": Param(1.0, "1", "Not used: the connection's factors are drift_factor and diffusion_factor"),
        "drift_factor": Param(1.0, "1", "Factor of the presynaptic rate in the target's mean input mu"),
        "diffusion_factor": Param(1.0, "1", "Factor of the presynaptic rate in the target's variance sigma2"),
        "receptor_type": Param(0, "1", "Receptor port of the target (siegert_neuron: 0 or 1, alike)", "int"),
    }
