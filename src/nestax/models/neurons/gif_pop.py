"""Population of generalized integrate-and-fire neurons with finite-size noise (NEST: gif_pop_psc_exp;
Schwalger, Deger & Gerstner 2017)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ...errors import BadParameterError
from ..base import Neuron, Param, State
from ..common import route_by_sign, stack_rows
from ..propagators import refractory_steps
from ..registry import register

_TMAX = 20000.0  # ms: the longest automatic history (NEST's get_history_size)


def _kernel(tau, q, lag_ms):
    """sum_j q_j exp(-lag / tau_j) for lags (ms) ``lag_ms`` (host, NumPy)."""
    return sum(qj * np.exp(-lag_ms / tj) for tj, qj in zip(tau, q))


def history_length(p_i, dt):
    """NEST's automatic len_kernel (in steps) for one node's parameters: the lag where the adaptation
    kernel falls below Delta_V / 10, at least 5 tau_m, at most 20 s, and longer than t_ref."""
    tau, q = np.ravel(p_i["tau_sfa"]).astype(float), np.ravel(p_i["q_sfa"]).astype(float)
    k = int(_TMAX / dt)
    kmin = int(5 * float(p_i["tau_m"]) / dt)
    # the first k (counting down from k) where the kernel is >= Delta_V / 10, or kmin
    ks = np.arange(k, kmin, -1)
    below = _kernel(tau, q, ks * dt) / float(p_i["Delta_V"]) < 0.1
    k = int(ks[np.argmin(below)]) if not below.all() else kmin
    if k * dt <= float(p_i["t_ref"]):
        k = int(float(p_i["t_ref"]) / dt) + 1
    return k


@register
class gif_pop_psc_exp(Neuron):
    """Population of N generalized integrate-and-fire neurons with exponential synaptic currents and
    multi-timescale threshold adaptation, simulated at the level of its population activity with
    finite-size noise (NEST: gif_pop_psc_exp; Schwalger, Deger & Gerstner 2017, Figs. 11-12).

    Each node stands for N neurons with escape rate lambda(t) = lambda_0 exp((V - E_sfa) / Delta_V),
    reset to V_reset after a spike, absolutely refractory for t_ref, and a threshold raised after each
    spike by the kernel theta(t) = sum_j q_sfa_j exp(-t / tau_sfa_j). Instead of single neurons the
    node keeps a history of len_kernel steps of the population (spike counts n, survivors m, their
    variance v, membrane potential u and escape rate of each cohort by time since its last spike) and
    draws the number of spikes of each step, n_events, from a binomial distribution (N, mean / N) (or
    a Poisson distribution when BinoRand is False). A spike event of the node carries n_events as its
    multiplicity: a target receives weight x n_events.

    Update of step k (NEST 3.10, per node; h = dt):

    1. input: h_tot = (I_e + I_prev) P20 + E_L with I_prev the generator current of the previous step
       (NEST's y0; P22 = exp(-h / tau_m), P20 = tau_m / C_m (1 - P22)); this step's spike input
       (weight x multiplicity; positive -> excitatory, else inhibitory) drives the exponential
       currents exactly over the step (tau_syn_ex / tau_syn_in; the currents' contribution to the
       membrane is added to h_tot); I_syn_ex / I_syn_in are then advanced;
    2. free neurons: V_m = (V_m - E_L) P22 + h_tot; adaptation g_j decays by Q30_j = exp(-h / tau_sfa_j)
       and gains (1 - Q30_j) n_oldest / (N h); E_sfa = V_T_star + sum_j q_sfa_j tau_sfa_j
       exp(-h len_kernel / tau_sfa_j) g_j - n[0] theta_tld[0] (NEST subtracts the count at buffer
       position 0, kept here); the free hazard P_free = 1 - exp(-(lambda_free + lambda) h / 2000)
       (rates in 1/s, h in ms);
    3. cohorts (age index i = 0 .. len_kernel - k_ref - 1, oldest first): threshold
       theta_i + E_sfa + sum_{j<i} n_j theta_tld_j; u_i = (u_i - E_L) P22 + h_tot; hazard
       P_i = (lambda_i + lambda_i_prev) h / 2000, 1 - exp(-P_i) where it exceeds 0.01; survivors and
       variances update; sums W, X, Y, Z as in the paper;
    4. mean = W + P_free x + P_Lambda (N - X - x); n_events drawn (binomial: N if mean >= N, 0 if
       mean <= 0; Poisson: N if mean > N, a Bernoulli draw where Poisson(mean) is indistinguishable
       from it, clipped to [0, N]); x, z updated; the newest cohort gets n_events, u = V_reset;
    5. recorded values: V_m, E_sfa, mean, n_events, I_syn_ex, I_syn_in.

    theta_i = theta((len_kernel - i) h) and theta_tld_i = Delta_V (1 - exp(-theta_i / Delta_V)) / N.
    The history starts with all N neurons in the newest cohort (NEST's InitPopulations: they fired in
    the step before t = 0, so they are refractory first).
    len_kernel < 1 (default -1) picks NEST's automatic length (:func:`history_length`, from the
    resolution; ``sim.get`` keeps showing the value given, where NEST shows the length it chose after
    Simulate); all nodes of one create call need the same length. The history is built at the
    first simulate and rebuilt after every ``set`` on the population (NEST rebuilds it for the nodes
    that were set), which also restarts x, z and g; V_m, I_syn_ex and I_syn_in keep their values.
    Random numbers: nestax's (JAX) stream, so runs agree with NEST in distribution only.

    Parameters (NEST 3.10 defaults; NEST's V_m starts at 0 whatever E_L):

    ========== ==== ======= ==================================================
    N          1    100     number of neurons (integer > 0)
    tau_m      ms   20      membrane time constant (> 0)
    C_m        pF   250     membrane capacitance (> 0)
    t_ref      ms   4       absolute refractory period (>= 0)
    lambda_0   1/s  10      escape rate at threshold (>= 0)
    Delta_V    mV   2       noise level of the escape rate (> 0)
    len_kernel 1    -1      history length in steps (< 1: automatic)
    I_e        pA   0       constant input current
    V_reset    mV   0       reset potential
    V_T_star   mV   15      base threshold
    E_L        mV   0       resting potential
    tau_syn_ex ms   3       excitatory synaptic time constant (> 0, != tau_m)
    tau_syn_in ms   6       inhibitory synaptic time constant (> 0, != tau_m)
    tau_sfa    ms   [300.]  adaptation time constants (each > 0, not empty)
    q_sfa      mV   [0.5]   adaptation jumps (as many as tau_sfa)
    BinoRand   bool True    binomial (True) or Poisson (False) spike counts
    ========== ==== ======= ==================================================

    Recordables: V_m (mV), n_events, E_sfa (mV), mean, I_syn_ex, I_syn_in (pA). Settable state:
    V_m, I_syn_ex, I_syn_in. Spikes and currents on receptor 0 only; not an archiving node (no
    tau_minus; NEST derives it from Node).
    """

    name = "gif_pop_psc_exp"
    kind = "neuron"
    ports = ("ex", "in")
    weight_unit = "pA"
    stochastic = True
    archiving = False
    settable_state = ("V_m", "I_syn_ex", "I_syn_in")
    parameters = {
        "N": Param(100, "1", "Number of neurons in the population", "int"),
        "tau_m": Param(20.0, "ms", "Membrane time constant"),
        "C_m": Param(250.0, "pF", "Membrane capacitance"),
        "t_ref": Param(4.0, "ms", "Duration of the absolute refractory period"),
        "lambda_0": Param(10.0, "1/s", "Firing rate at threshold"),
        "Delta_V": Param(2.0, "mV", "Noise level of the escape rate"),
        "len_kernel": Param(-1, "1", "History length in steps (< 1: chosen automatically)", "int"),
        "I_e": Param(0.0, "pA", "Constant input current"),
        "V_reset": Param(0.0, "mV", "Reset potential"),
        "V_T_star": Param(15.0, "mV", "Base threshold"),
        "E_L": Param(0.0, "mV", "Resting potential"),
        "tau_syn_ex": Param(3.0, "ms", "Time constant of the excitatory synaptic current"),
        "tau_syn_in": Param(6.0, "ms", "Time constant of the inhibitory synaptic current"),
        "tau_sfa": Param((300.0,), "ms", "Time constants of the threshold adaptation", "array"),
        "q_sfa": Param((0.5,), "mV", "Jumps of the threshold adaptation", "array"),
        "BinoRand": Param(True, "1", "Binomial (True) or Poisson (False) spike counts", "bool"),
    }
    state = {
        "V_m": State("mV", 0.0, "Membrane potential of the free neurons"),
        "I_syn_ex": State("pA", 0.0, "Excitatory synaptic current"),
        "I_syn_in": State("pA", 0.0, "Inhibitory synaptic current"),
        "n_events": State("1", 0, "Number of spikes in the last step"),
        "E_sfa": State("mV", 0.0, "Adaptive threshold of the free neurons"),
        "mean": State("1", 0.0, "Expected number of spikes in the last step"),
        "_k0": State("1", 0, "Steps since the history was built, modulo len_kernel (internal)"),
        "_x": State("1", 0.0, "Free neurons (internal)"),
        "_z": State("1", 0.0, "Variance of the free neurons (internal)"),
        "_lambda_free": State("1/s", 0.0, "Escape rate of the free neurons in the last step (internal)"),
        "_g": State("1/ms", 0.0, "Adaptation variables, (n, K) (internal)"),
        "_tau_sfa": State("ms", 0.0, "tau_sfa as an (n, K) array (internal)"),
        "_q_sfa": State("mV", 0.0, "q_sfa as an (n, K) array (internal)"),
        "_n": State("1", 0.0, "Spike counts by age, oldest first, (n, L) (internal)"),
        "_m": State("1", 0.0, "Surviving neurons by age, (n, L) (internal)"),
        "_u": State("mV", 0.0, "Membrane potential by age, (n, L) (internal)"),
        "_v": State("1", 0.0, "Variance of the survivors by age, (n, L) (internal)"),
        "_lam": State("1/s", 0.0, "Escape rate by age in the last step, (n, L) (internal)"),
        "_theta": State("mV", 0.0, "Adaptation kernel by age, (n, L) (internal)"),
        "_theta_tld": State("mV", 0.0, "Quasi-renewal kernel by age, (n, L) (internal)"),
    }
    _history = ("_n", "_m", "_u", "_v", "_lam", "_theta", "_theta_tld")

    @classmethod
    def recordables(cls):
        return ("V_m", "n_events", "E_sfa", "mean", "I_syn_ex", "I_syn_in")

    @classmethod
    def check(cls, p):
        for tau, q in zip(p["tau_sfa"], p["q_sfa"]):
            tau, q = np.ravel(np.asarray(tau, float)), np.ravel(np.asarray(q, float))
            if len(tau) != len(q):
                raise BadParameterError(
                    f"{cls.name}: parameters 'tau_sfa' ({len(tau)} values) and 'q_sfa' ({len(q)} values) are "
                    "invalid; expected the same number of values (NEST: 'tau_sfa' and 'q_sfa' need to have the "
                    "same dimension).")
            if len(tau) == 0:
                raise BadParameterError(f"{cls.name}: parameter 'tau_sfa' = [] ms is invalid; expected at least "
                                        "one adaptation time constant (NEST refuses an empty array at simulate).")
            if np.any(~(tau > 0)):
                raise BadParameterError(f"{cls.name}: parameter 'tau_sfa' = {tau.tolist()} ms is invalid; expected "
                                        "every time constant > 0 ms.")
        cls._positive(p, "C_m", "tau_m", "tau_syn_ex", "tau_syn_in", "N", "Delta_V")
        cls._nonnegative(p, "lambda_0", "t_ref")
        for syn in ("tau_syn_ex", "tau_syn_in"):
            cls._require(p, syn, np.asarray(p[syn]) != np.asarray(p["tau_m"]),
                         "a value != tau_m (the exact PSC integration divides by tau_syn - tau_m; NEST "
                         "gives NaN there)")

    @classmethod
    def port_names(cls, p):
        return cls.ports

    @classmethod
    def route(cls, weights, receptor_type):
        """NEST: weight x multiplicity > 0 -> excitatory buffer, else inhibitory; the sign is kept."""
        return route_by_sign(weights, zero="in")

    # ---- the population history (built for the resolution at simulate: Neuron.fit_state) ----------
    @classmethod
    def assign(cls, p, s, name, value):
        if name == "_tau_sfa":
            return stack_rows(p["tau_sfa"], 1.0)
        if name == "_q_sfa":
            return stack_rows(p["q_sfa"], 0.0)
        if name in cls._history or name == "_g":
            return np.zeros((len(p["N"]), 0))   # rebuilt by fit_state before the next run (NEST: initialized_ = false)
        return value

    @classmethod
    def fit_state(cls, p, dt, s):
        n = len(p["N"])
        Ls = []
        for i in range(n):
            L = int(p["len_kernel"][i])
            Ls.append(L if L >= 1 else history_length({k: (v[i] if isinstance(v, list) else np.asarray(v)[i])
                                                        for k, v in p.items()}, dt))
        if len(set(Ls)) != 1:
            raise BadParameterError(
                f"{cls.name}: the nodes of one population have history lengths {sorted(set(Ls))} steps (len_kernel, "
                "automatic from tau_sfa, q_sfa, Delta_V, tau_m, t_ref where < 1); expected one length per create "
                "call: create one population per parameter set, or give len_kernel.")
        L = Ls[0]
        if s["_n"].ndim == 2 and s["_n"].shape == (n, L):
            return s                                   # a history that fits: a continued run
        s = dict(s)
        tau, q = stack_rows(p["tau_sfa"], 1.0), stack_rows(p["q_sfa"], 0.0)
        age = np.arange(L)
        theta = np.stack([_kernel(tau[i], q[i], (L - age) * dt) for i in range(n)])
        N = np.asarray(p["N"], float)[:, None]
        dv = np.asarray(p["Delta_V"], float)[:, None]
        hist = np.zeros((n, L))
        first = hist.copy()
        first[:, L - 1] = N[:, 0]  # all N neurons fired in the step before t = 0 (the newest cohort)
        s.update({"_n": first, "_m": first.copy(), "_u": hist.copy(), "_v": hist.copy(), "_lam": hist.copy(),
                  "_theta": theta, "_theta_tld": dv * (1.0 - np.exp(-theta / dv)) / N,
                  "_g": np.zeros(tau.shape), "_x": np.zeros(n), "_z": np.zeros(n), "_lambda_free": np.zeros(n),
                  "_k0": np.zeros(n, np.int64)})
        return s

    @classmethod
    def prepare(cls, p, dt):
        P22 = jnp.exp(-dt / p["tau_m"])
        return {"dt": dt, "P22": P22, "P20": p["tau_m"] / p["C_m"] * (1.0 - P22),
                "P11_ex": jnp.exp(-dt / p["tau_syn_ex"]), "P11_in": jnp.exp(-dt / p["tau_syn_in"]),
                "k_ref": refractory_steps(p["t_ref"], dt)}

    @staticmethod
    def _psc(p, d, I_syn, spikes, tau_syn, P11):
        """The exact step of one exponential current: its membrane drive and the new current."""
        h = d["dt"]
        JNA = spikes / h * tau_syn / p["C_m"]
        JNy = I_syn / p["C_m"]
        tmp = tau_syn * P11 * (JNy - JNA) - d["P22"] * (tau_syn * JNy - p["tau_m"] * JNA)
        drive = p["tau_m"] * (JNA + tmp / (tau_syn - p["tau_m"]))
        return drive, (JNA + (JNy - JNA) * P11) * p["C_m"]

    @classmethod
    def _draw(cls, p, mean, key):
        N = p["N"].astype(mean.dtype)
        kb, kp, ku = jax.random.split(key, 3)
        # binomial (N, mean / N)
        prob = jnp.clip(mean / N, 0.0, 1.0)
        bino = jax.random.binomial(kb, N, prob, dtype=mean.dtype)
        bino = jnp.where(mean / N >= 1.0, N, jnp.where(mean / N <= 0.0, 0.0, bino))
        # Poisson (mean), a Bernoulli draw where it cannot be told apart from one, clipped to [0, N]
        tiny = jnp.finfo(mean.dtype).tiny
        lam = jnp.where(mean > tiny, mean, 1.0)
        pois = jax.random.poisson(kp, lam, dtype=jnp.int64 if mean.dtype == jnp.float64 else jnp.int32)
        bern = (jax.random.uniform(ku, mean.shape, mean.dtype) < mean).astype(mean.dtype)
        distinct = 1.0 - (mean + 1.0) * jnp.exp(-mean) > tiny
        pois = jnp.clip(jnp.where(distinct, pois.astype(mean.dtype), bern), 0.0, N)
        pois = jnp.where(mean > N, N, jnp.where(mean > tiny, pois, 0.0))
        return jnp.where(p["BinoRand"], bino, pois)

    @classmethod
    def update(cls, p, d, s, syn, I, key):
        h = d["dt"]
        N = p["N"].astype(s["V_m"].dtype)
        # 1. input and synaptic currents
        drive_ex, i_ex = cls._psc(p, d, s["I_syn_ex"], syn[0], p["tau_syn_ex"], d["P11_ex"])
        drive_in, i_in = cls._psc(p, d, s["I_syn_in"], syn[1], p["tau_syn_in"], d["P11_in"])
        h_tot = (p["I_e"] + I) * d["P20"] + p["E_L"] + drive_ex + drive_in
        # 2. free neurons and the adaptation
        v_m = (s["V_m"] - p["E_L"]) * d["P22"] + h_tot
        L = s["_n"].shape[1]
        q30 = jnp.exp(-h / s["_tau_sfa"])
        q30k = s["_q_sfa"] * s["_tau_sfa"] * jnp.exp(-h * L / s["_tau_sfa"])
        g = s["_g"] * q30 + (1.0 - q30) * s["_n"][:, :1] / (N[:, None] * h)
        e_sfa = p["V_T_star"]
        for j in range(g.shape[1]):     # NEST's order of summation
            e_sfa = e_sfa + q30k[:, j] * g[:, j]
        lam_free = p["lambda_0"] * jnp.exp((v_m - e_sfa) / p["Delta_V"])           # 1/s, as NEST
        p_free = 1.0 - jnp.exp(-0.0005 * (s["_lambda_free"] + lam_free) * h)
        k0 = s["_k0"]
        at0 = (L - k0) % L                                 # NEST's buffer position 0, by age
        n_at0 = jnp.take_along_axis(s["_n"], at0[:, None], axis=1)[:, 0]
        tld_at0 = s["_theta_tld"][:, 0]                    # theta_tld is indexed by age in NEST
        e_sfa = e_sfa - n_at0 * tld_at0
        X = jnp.sum(s["_m"], axis=1)
        # 3. the refractory-free cohorts, oldest first
        age = jnp.arange(L)
        active = age[None, :] < (L - d["k_ref"])[:, None]
        nt = jnp.where(active, s["_n"] * s["_theta_tld"], 0.0)
        theta = s["_theta"] + e_sfa[:, None] + (jnp.cumsum(nt, axis=1) - nt)
        u = jnp.where(active, (s["_u"] - p["E_L"][:, None]) * d["P22"][:, None] + h_tot[:, None], s["_u"])
        lam = p["lambda_0"][:, None] * jnp.exp((u - theta) / p["Delta_V"][:, None])
        P = 0.0005 * (lam + s["_lam"]) * h
        P = jnp.where(P > 0.01, -jnp.expm1(-P), P)
        P = jnp.where(active, P, 0.0)
        m, v = s["_m"], s["_v"]
        Y = jnp.sum(P * v, axis=1)
        Z = jnp.sum(jnp.where(active, v, 0.0), axis=1)
        W = jnp.sum(P * m, axis=1)
        ompl = 1.0 - P
        v = jnp.where(active, ompl * ompl * v + P * m, v)
        m = jnp.where(active, ompl * m, m)
        lam = jnp.where(active, lam, s["_lam"])
        # 4. expected and drawn spike count
        x, z = s["_x"], s["_z"]
        p_lambda = jnp.where(Z + z > 0.0, (Y + p_free * z) / jnp.where(Z + z > 0.0, Z + z, 1.0), 0.0)
        mean = W + p_free * x + p_lambda * (N - X - x)
        n_spk = cls._draw(p, mean, key)
        ompf = 1.0 - p_free
        z = ompf * ompf * z + x * p_free + v[:, 0]
        x = x * ompf + m[:, 0]
        # the oldest cohort becomes the newest: shift by one age, n_events at the end
        def newest(a, val):
            return jnp.concatenate([a[:, 1:], jnp.broadcast_to(val, (a.shape[0],))[:, None]], axis=1)
        zero = jnp.zeros_like(x)
        out = {
            "V_m": v_m, "I_syn_ex": i_ex, "I_syn_in": i_in, "E_sfa": e_sfa, "mean": mean,
            "n_events": n_spk.astype(s["n_events"].dtype),
            "_k0": ((k0 + 1) % L).astype(k0.dtype), "_x": x, "_z": z, "_lambda_free": lam_free, "_g": g,
            "_tau_sfa": s["_tau_sfa"], "_q_sfa": s["_q_sfa"],
            "_n": newest(s["_n"], n_spk), "_m": newest(m, n_spk), "_v": newest(v, zero),
            "_u": newest(u, p["V_reset"]), "_lam": newest(lam, zero),
            "_theta": s["_theta"], "_theta_tld": s["_theta_tld"],
        }
        return out, n_spk.astype(jnp.int32)
