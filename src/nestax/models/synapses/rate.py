"""Rate connections between rate neurons (NEST: rate_connection_delayed, rate_connection_instantaneous).

A rate neuron sends its rate every step instead of spikes. In step k a rate neuron sends the value it
held at the start of the step (NEST's ``new_rates[lag]``: the rate before the step's update; for the
output-noise models the noisy rate drawn for the step). A target adds ``weight x value`` (or
``weight x phi(value)`` with ``linear_summation=False``) to its excitatory input if ``weight >= 0``,
else to its inhibitory input.

- ``rate_connection_delayed``: the value sent in step k is used by the target in step k + delay.
- ``rate_connection_instantaneous``: the value sent in step k is used by the target in the same
  step k. This is the solution that NEST's waveform relaxation (``use_wfr=True``, its default)
  iterates towards: nestax computes it directly, so there is no ``wfr_tol`` error. NEST with
  ``use_wfr=False`` instead holds each input for a whole min_delay slice; nestax does not reproduce
  that approximation. The connection has no delay; giving one is an error, as in NEST.
"""
from __future__ import annotations

from ..base import Param, RateConnection
from ..registry import register


_WEIGHT = {"weight": Param(1.0, "1", "Coupling weight (dimensionless: the target adds weight x rate)")}
_RECEPTOR = {"receptor_type": Param(0, "1", "Receptor port of the target (rate neurons have only 0)", "int")}


@register
class rate_connection_delayed(RateConnection):
    """Rate coupling with a delay: the target sees the source's rate of ``delay`` earlier."""

    name = "rate_connection_delayed"
    rate_kind = "delayed"
    parameters = {**_WEIGHT, "delay": Param(1.0, "ms", "Transmission delay"), **_RECEPTOR}


@register
class rate_connection_instantaneous(RateConnection):
    """Rate coupling without delay: the target sees the source's rate of the same step."""

    name = "rate_connection_instantaneous"
    rate_kind = "instantaneous"
    parameters = {**_WEIGHT, **_RECEPTOR}
