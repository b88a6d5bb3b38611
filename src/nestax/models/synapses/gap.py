"""gap_junction: an electrical coupling between two neurons (NEST: gap_junction).

The weight is a conductance g (nS). A neuron i coupled to neurons j receives the current
I_gap,i(t) = sum_j g_ij (V_j(t) - V_i(t)) continuously; there is no delay. NEST requires the
connections to be symmetric (one_to_one with ``make_symmetric=True``, all_to_all with equal source
and target populations and a scalar weight, or symmetric_pairwise_bernoulli), and both ends must be
neurons that support gap junctions (``Neuron.gap``: hh_psc_alpha_gap, hh_cond_beta_gap_traub).

Coupling within a step: NEST's waveform relaxation, reproduced by the engine
(:mod:`nestax.engine.run`, phase ``update``) with NEST's kernel settings, kept on the network
(``Network.wfr``: use_wfr True, wfr_comm_interval 1 ms, wfr_tol 1e-4 mV, wfr_max_iterations 15,
wfr_interpolation_order 3):

- time is cut into slices of min_delay steps (the shortest delay of the network and, when gap
  junctions exist, wfr_comm_interval);
- at the start of a slice every gap neuron integrates the whole slice from its current state
  (its integrator's step size carries on, as NEST's), with its partners' V given as one polynomial
  per step in the fraction s of the step: order 3, the cubic Hermite interpolation from V and
  dt dV/dt at both ends; order 1, linear; order 0, V at the start of the step. The first iteration
  uses the partners' V at the slice start, held (nothing at t = 0, as NEST); the iterations repeat
  until no neuron's V at the end of any step of the slice moved by more than wfr_tol from the
  previous iteration (at most wfr_max_iterations), during which the generator current is held at its
  value of the slice's first step, as in NEST;
- then the slice is simulated for real with the polynomials of the last iteration.
- ``use_wfr=False``: slices of one step; each step sees the partners' V of the step's start, held.

Parameters: weight (nS, 1.0). No delay (giving one is an error, as in NEST).
"""
from __future__ import annotations

from ..base import Param, Synapse
from ..registry import register


@register
class gap_junction(Synapse):
    """Electrical synapse: the target receives weight x (V_source - V_target), weight in nS."""

    name = "gap_junction"
    gap = True
    parameters = {"weight": Param(1.0, "nS", "Gap-junction conductance g")}
