"""Astrocytes and the neurons they talk to (NEST: astrocyte_lr_1994, aeif_cond_alpha_astro).

``astrocyte_lr_1994`` is the Li-Rinzel (1994) reduction of the De Young-Keizer model of the
calcium dynamics of an astrocyte, with NEST's extensions after Nadkarni & Jung (2003): spikes
arriving at the astrocyte raise its IP3 concentration, IP3 opens the IP3 receptors of the
endoplasmic reticulum (ER), calcium flows into the cytosol, and a cytosolic calcium concentration
above a threshold makes the astrocyte send a slow inward current (SIC) to neurons through
``sic_connection`` (:mod:`nestax.models.synapses.sic`). The astrocyte sends no spikes.

    dIP3/dt    = (IP3_0 - IP3) / tau_IP3                                   (+ delta_IP3 x w per spike)
    dCa/dt     = J_channel - J_pump + J_leak + J_noise
    dh_IP3R/dt = alpha_h (1 - h_IP3R) - beta_h h_IP3R

with c = Ca_astro bounded to [0, Ca_tot] inside the right-hand side, c_ER = (Ca_tot - c) / ratio_ER_cyt,

    m_inf = IP3 / (IP3 + Kd_IP3_1),   n_inf = c / (c + Kd_act)
    J_channel = ratio_ER_cyt rate_IP3R m_inf^3 n_inf^3 h_IP3R^3 (c_ER - c)
    J_leak    = ratio_ER_cyt rate_L (c_ER - c)
    J_pump    = rate_SERCA c^2 / (Km_SERCA^2 + c^2)
    alpha_h   = k_IP3R Kd_inh (IP3 + Kd_IP3_1) / (IP3 + Kd_IP3_2),   beta_h = k_IP3R c

and J_noise the current of current generators, added to dCa/dt as it is (NEST reads a current in pA
as uM/ms here). The SIC sent after each step is

    SIC = SIC_scale ln(y)  if y = (Ca_astro - SIC_th) x 1000 > 1  (calcium in nM above threshold), else 0.

Update order of step k (NEST 3.10): integrate (0, dt] with GSL's RKF45 under the ``y`` error
control (absolute tolerance 1e-3, relative 0; the internal step size is kept from step to step and
starts at dt); bound Ca_astro to [0, Ca_tot]; add delta_IP3 x (summed weight x multiplicity of the
spikes arriving in this step) to IP3; compute the SIC; read the generator current for the next step.

``aeif_cond_alpha_astro`` is NEST's aeif_cond_alpha (:mod:`nestax.models.neurons.aeif`) with one more
input: the SIC that its sic_connections deliver, added to the membrane current. NEST buffers it like
a generator current: the SIC an astrocyte computes in step k reaches the neuron with the connection's
delay d and acts in step k + d + 1; the recordable ``I_SIC`` shows the SIC of the next step (so
I_SIC at t + d equals the weighted SIC the astrocyte computed from its Ca_astro at t).
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..base import Neuron, Param, State
from ...errors import BadParameterError
from ..integrators import rkf45_evolve
from ..registry import register
from .aeif import aeif_cond_alpha

_UM = "1"  # NEST's concentrations are in uM; nestax keeps them as plain numbers in uM


@register
class astrocyte_lr_1994(Neuron):
    """Li-Rinzel astrocyte: IP3 and calcium dynamics driven by spikes, SIC output (NEST: astrocyte_lr_1994).

    Equations and update order: see the module docstring. Spikes of weight w (dimensionless, >= 0)
    raise IP3 by delta_IP3 x w in the step they arrive; current generators add to dCa/dt. The
    astrocyte sends no spikes; it sends its SIC every step through sic_connection.

    ============= ========= ========= ==========================================================
    Parameter     Unit      Default   Meaning (constraint)
    ============= ========= ========= ==========================================================
    Ca_tot        uM        2.0       Total free calcium in terms of cytosolic volume (> 0)
    IP3_0         uM        0.16      Baseline IP3 (>= 0)
    Kd_act        uM        0.08234   IP3R dissociation constant of calcium, activation (> 0)
    Kd_inh        uM        1.049     IP3R dissociation constant of calcium, inhibition (>= 0)
    Kd_IP3_1      uM        0.13      First IP3R dissociation constant of IP3 (> 0)
    Kd_IP3_2      uM        0.9434    Second IP3R dissociation constant of IP3 (> 0)
    Km_SERCA      uM        0.1       Activation constant of the SERCA pump (> 0)
    ratio_ER_cyt  1         0.185     Ratio of ER and cytosol volumes (> 0)
    delta_IP3     uM        0.0002    IP3 increase per unit of spike weight (>= 0)
    k_IP3R        1/(uM ms) 0.0002    IP3R binding constant of calcium inhibition (>= 0)
    SIC_scale     1         1.0       Scale of the SIC output (> 0)
    SIC_th        uM        0.19669   Calcium threshold of the SIC (>= 0)
    rate_L        1/ms      0.00011   Rate of the calcium leak from the ER (>= 0)
    rate_IP3R     1/ms      0.006     Maximal rate of calcium release through IP3R (>= 0)
    rate_SERCA    uM/ms     0.0009    Maximal rate of calcium uptake by SERCA (>= 0)
    tau_IP3       ms        7142.0    Time constant of the IP3 decay (> 0)
    ============= ========= ========= ==========================================================

    Concentrations are plain numbers in uM (nestax has no molar unit). Recordables: IP3 (uM,
    starts at 0.16, NEST's default IP3_0, whatever IP3_0 is given), Ca_astro (uM, 0.073),
    h_IP3R (1, 0.793). The astrocyte has no tau_minus (it is not an archiving node in NEST).
    """

    name = "astrocyte_lr_1994"
    weight_unit = "1"
    ports = ("spikes",)
    archiving = False
    sends_spikes = False
    sends_rate_event = "sic"
    parameters = {
        "Ca_tot": Param(2.0, _UM, "Total free calcium in terms of cytosolic volume (uM)"),
        "IP3_0": Param(0.16, _UM, "Baseline IP3 concentration (uM)"),
        "Kd_act": Param(0.08234, _UM, "IP3R dissociation constant of calcium, activation (uM)"),
        "Kd_inh": Param(1.049, _UM, "IP3R dissociation constant of calcium, inhibition (uM)"),
        "Kd_IP3_1": Param(0.13, _UM, "First IP3R dissociation constant of IP3 (uM)"),
        "Kd_IP3_2": Param(0.9434, _UM, "Second IP3R dissociation constant of IP3 (uM)"),
        "Km_SERCA": Param(0.1, _UM, "Activation constant of the SERCA pump (uM)"),
        "ratio_ER_cyt": Param(0.185, "1", "Ratio of ER and cytosol volumes"),
        "delta_IP3": Param(0.0002, _UM, "IP3 increase per unit of spike weight (uM)"),
        "k_IP3R": Param(0.0002, "1/ms", "IP3R binding constant of calcium inhibition (1/(uM ms))"),
        "SIC_scale": Param(1.0, "1", "Scale of the SIC output"),
        "SIC_th": Param(0.19669, _UM, "Calcium threshold of the SIC (uM)"),
        "rate_L": Param(0.00011, "1/ms", "Rate of the calcium leak from the ER"),
        "rate_IP3R": Param(0.006, "1/ms", "Maximal rate of calcium release through IP3R"),
        "rate_SERCA": Param(0.0009, "1/ms", "Maximal rate of calcium uptake by SERCA (uM/ms)"),
        "tau_IP3": Param(7142.0, "ms", "Time constant of the IP3 decay"),
    }
    state = {
        "IP3": State(_UM, 0.16, "IP3 concentration (uM)"),
        "Ca_astro": State(_UM, 0.073, "Cytosolic calcium concentration (uM)"),
        "h_IP3R": State("1", 0.793, "Fraction of IP3 receptors not yet inactivated by calcium"),
        "h": State("ms", 0.0, "Integrator's proposed step size (0: start with dt)"),
        "_sic": State("1", 0.0, "SIC computed in the last step (sent at the start of the next)"),
    }

    @classmethod
    def recordables(cls):
        return ("IP3", "Ca_astro", "h_IP3R")

    @classmethod
    def check(cls, p):
        cls._positive(p, "Ca_tot", "Kd_act", "Kd_IP3_1", "Kd_IP3_2", "Km_SERCA", "ratio_ER_cyt", "SIC_scale",
                      "tau_IP3")
        cls._nonnegative(p, "IP3_0", "Kd_inh", "delta_IP3", "k_IP3R", "SIC_th", "rate_L", "rate_IP3R",
                         "rate_SERCA")

    @classmethod
    def route(cls, weights, receptor_type):
        w = np.asarray(weights, float)
        if np.any(w < 0):  # NEST: KernelException when such a spike is delivered
            raise BadParameterError(f"{cls.name}: connection weight {float(w[w < 0].ravel()[0])} is invalid; "
                                    "expected weights >= 0 (NEST: 'astrocyte_lr_1994 cannot handle input spikes "
                                    "with negative weights').")
        return np.zeros(w.shape, int), np.ones_like(w)

    @classmethod
    def prepare(cls, p, dt):
        return {"dt": dt}

    @staticmethod
    def _rhs(y, args):
        p, J = args
        ip3, ca, hr = y[0], y[1], y[2]
        c = jnp.maximum(0.0, jnp.minimum(ca, p["Ca_tot"]))
        alpha = p["k_IP3R"] * p["Kd_inh"] * (ip3 + p["Kd_IP3_1"]) / (ip3 + p["Kd_IP3_2"])
        beta = p["k_IP3R"] * c
        j_pump = p["rate_SERCA"] * (c * c) / (p["Km_SERCA"] * p["Km_SERCA"] + c * c)
        m_inf = ip3 / (ip3 + p["Kd_IP3_1"])
        n_inf = c / (c + p["Kd_act"])
        c_er = (p["Ca_tot"] - c) / p["ratio_ER_cyt"]
        j_leak = p["ratio_ER_cyt"] * p["rate_L"] * (c_er - c)
        j_chan = (p["ratio_ER_cyt"] * p["rate_IP3R"] * (m_inf * m_inf * m_inf) * (n_inf * n_inf * n_inf)
                  * (hr * hr * hr) * (c_er - c))
        return jnp.stack([(p["IP3_0"] - ip3) / p["tau_IP3"], j_chan - j_pump + j_leak + J,
                          alpha * (1.0 - hr) - beta * hr])

    @classmethod
    def update(cls, p, d, s, syn, I):
        y = jnp.stack([s["IP3"], s["Ca_astro"], s["h_IP3R"]])
        h = jnp.where(s["h"] > 0, s["h"], d["dt"])
        pp = {k: p[k] for k in cls.parameters}
        y, h, _ = rkf45_evolve(cls._rhs, y, h, d["dt"], (pp, I), eps_abs=1e-3, eps_rel=0.0, a_y=1.0, a_dydt=0.0)
        ca = jnp.maximum(0.0, jnp.minimum(y[1], p["Ca_tot"]))
        ip3 = y[0] + p["delta_IP3"] * syn[0]
        thr = (ca - p["SIC_th"]) * 1000.0
        sic = jnp.where(thr > 1.0, jnp.log(jnp.where(thr > 1.0, thr, 1.0)) * p["SIC_scale"], 0.0)
        out = {"IP3": ip3, "Ca_astro": ca, "h_IP3R": y[2], "h": h, "_sic": sic}
        return out, jnp.zeros(ca.shape, jnp.int32)

    @classmethod
    def emit(cls, p, d, s):
        """The SIC computed in the previous step (NEST sends it with the slice's SICEvent)."""
        return s["_sic"], s


@register
class aeif_cond_alpha_astro(aeif_cond_alpha):
    """aeif_cond_alpha that also takes an astrocyte's slow inward current (NEST: aeif_cond_alpha_astro).

    C_m dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_th)/Delta_T) - g_ex (V - E_ex) - g_in (V - E_in)
                - w + I_e + I_gen + I_SIC
    Everything else, parameters and defaults included, is aeif_cond_alpha (see its docstring and
    :mod:`nestax.models.neurons.aeif`). I_SIC is the sum of weight x SIC over the sic_connections
    from astrocytes (astrocyte_lr_1994); the SIC an astrocyte computes in step k acts in step
    k + d + 1 (d: the connection's delay in steps), held constant over the step like I_gen.

    Recordables: V_m (mV), g_ex (nS), g_in (nS), w (pA), I_SIC (pA: the SIC of the next step, as NEST
    records it).
    """

    name = "aeif_cond_alpha_astro"
    ports = ("ex", "in", "sic")
    accepts_rate_events = ("sic",)
    next_inputs = {"I_SIC": "sic"}

    @classmethod
    def recordables(cls):
        return ("V_m", "g_ex", "g_in", "w", "I_SIC")

    @classmethod
    def unit_of(cls, name):
        return "pA" if name == "I_SIC" else super().unit_of(name)

    @classmethod
    def update(cls, p, d, s, syn, I):
        return super().update(p, d, s, syn[:2], I + syn[2])
