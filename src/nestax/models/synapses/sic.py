"""Slow inward current connection from an astrocyte to a neuron (NEST: sic_connection).

An astrocyte_lr_1994 computes a slow inward current (SIC) in every step; a sic_connection carries it
to an aeif_cond_alpha_astro, which adds ``weight x SIC`` (pA) to its membrane current. NEST sends the
SIC values of a min_delay slice together, as one secondary event at the end of the slice, and the
target files each value at its own step plus the connection's delay: the SIC computed in step k is
read by the target at the end of step k + d (d: the delay in steps) and acts in step k + d + 1, like a
generator current. There is no extra lag of a slice, and split simulate calls change nothing
(measured on NEST 3.10). nestax sends the value every step through the rate path
(:class:`~nestax.models.base.RateConnection`, delayed), which gives the same schedule.

Only astrocyte_lr_1994 sends SIC events and only aeif_cond_alpha_astro accepts them; any other
source or target is refused (NEST: IllegalConnection), as is receptor_type 1 (NEST:
UnknownReceptorType).
"""
from __future__ import annotations

from ..base import Param, RateConnection
from ..registry import register


@register
class sic_connection(RateConnection):
    """Astrocyte -> neuron slow inward current (NEST: sic_connection).

    ============= ==== ======= ========================================================
    weight        1    1.0     Factor of the SIC in the target's current (any sign)
    delay         ms   1.0     Transmission delay (a multiple of dt, >= dt)
    receptor_type 1    0       Receptor port of the target (aeif_cond_alpha_astro: 0)
    ============= ==== ======= ========================================================
    """

    name = "sic_connection"
    rate_kind = "delayed"
    rate_event = "sic"
    feeds = (("weight", "sic"),)
    parameters = {
        "weight": Param(1.0, "1", "Factor of the SIC in the target's membrane current"),
        "delay": Param(1.0, "ms", "Transmission delay"),
        "receptor_type": Param(0, "1", "Receptor port of the target (0)", "int"),
    }
