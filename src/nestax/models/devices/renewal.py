"""Renewal-process spike generators that keep a state per target (NEST 3.10 names, defaults, timing).

- :class:`gamma_sup_generator`: per target, the superposition of ``n_proc`` gamma processes of order
  ``gamma_shape`` and rate ``rate`` each, tracked as occupation numbers of the gamma phases.
- :class:`ppd_sup_generator`: per target, the superposition of ``n_proc`` Poisson processes with dead
  time, tracked as an age histogram; optionally with a sinusoidally modulated hazard.
- :class:`sinusoidal_gamma_generator`: gamma trains of order ``order`` with a sinusoidally modulated
  rate, one per target (``individual_spike_trains``) or one shared by all.

They use the per-connection run state of the spike-source protocol (:class:`nestax.models.base.SpikeSource`:
``conn_state``, ``init_conn_state``; ``emit`` returns the new state with the emission), which the
engine keeps across ``simulate`` calls and rebuilds; a connection made later starts from the
initial state, as NEST initialises the state of new targets at the next run.

Timing: NEST 3.10 types all three as spike generators (not as current generators): they are active
in the engine steps k with origin + start < k <= origin + stop, and the spikes of step k are stamped
(k + 1) * dt (so the first possible stamp is origin + start + 2 dt, the last origin + stop + dt), as
poisson_generator. A state advances only in active steps (gamma_sup, ppd_sup: NEST updates a target's
state when it sends to it); sinusoidal_gamma's integral Lambda grows with time whether or not the
generator is active (NEST integrates it from the time of the last spike).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaincc, gammaln

from ..base import Param, SpikeEmission
from ..registry import register
from .generators import _WINDOW, SpikeSource


def _active(h, k):
    """Spike generators are active in engine steps k with origin + start < k <= origin + stop."""
    return (k > h["t_lo"]) & (k <= h["t_hi"])


#: largest -n log(1 - p) (>= n p; per state and step) for which the transitions are drawn by walking the
#: CDF (its first term (1 - p)^n or e^(-n p) stays a normal float in float32); above it JAX's samplers
WALK_MAX = 60.0


def _walkable(n, p) -> bool:
    """Host side: every (n, p) pair (p < 1; p >= 1 needs no draw) can be drawn by the CDF walk."""
    n, p = np.broadcast_arrays(np.asarray(n, float), np.clip(np.asarray(p, float), 0.0, 1.0))
    m = p < 1
    return bool(np.max(-n[m] * np.log1p(-p[m]), initial=0.0) <= WALK_MAX)


def _transitions(key, n, p, walk=True):
    """How many of ``n`` members (float array of whole numbers) leave a state with probability ``p``
    each in one step, as NEST draws it: Poisson(n p), clipped to n, where n >= 100 and p <= 0.01 or
    n >= 500 and n p <= 0.1; a binomial draw B(n, p) otherwise.

    ``walk`` (static): every n p is at most :data:`WALK_MAX`: one uniform per element, inverted by
    walking the CDF of its distribution from 0 (as many iterations as the largest count drawn, a few
    for the small per-step means of spike trains); else JAX's binomial and Poisson samplers (exact
    too, but far slower on a CPU)."""
    p = jnp.clip(p, 0.0, 1.0)
    pois = ((n >= 100) & (p <= 0.01)) | ((n >= 500) & (p * n <= 0.1))
    if not walk:
        k_b, k_p = jax.random.split(key)
        b = jax.random.binomial(k_b, n, p, dtype=n.dtype)
        q = jnp.minimum(jax.random.poisson(k_p, p * n, n.shape).astype(n.dtype), n)
        return jnp.where(n > 0, jnp.where(pois, q, b), 0.0)
    u = jax.random.uniform(key, n.shape, dtype=n.dtype)
    lam = n * p
    full = p >= 1.0  # every member leaves
    pe = jnp.where(full, 0.5, p)
    # first term P(0): e^(-lam) (Poisson) or (1 - p)^n (binomial); then P(j+1) / P(j)
    p0 = jnp.where(pois, jnp.exp(-lam), jnp.exp(n * jnp.log1p(-pe)))
    odds = pe / (1.0 - pe)

    def cond(c):
        return ~jnp.all(c[4])

    def body(c):
        j, pj, cdf, cnt, done = c
        hit = ~done & ((u < cdf) | (j >= n))
        cnt = jnp.where(hit, j, cnt)
        # past the mean, once the next term is below rounding the CDF cannot grow: take this count
        tail = ~done & ~hit & (j > lam) & (pj < 1e-17 * cdf)
        cnt = jnp.where(tail, j, cnt)
        pj = pj * jnp.where(pois, lam / (j + 1.0), (n - j) / (j + 1.0) * odds)
        return j + 1.0, pj, cdf + pj, cnt, done | hit | tail

    init = (jnp.zeros((), n.dtype), p0, p0, jnp.zeros(n.shape, n.dtype), (n <= 0) | (p <= 0) | full)
    cnt = jax.lax.while_loop(cond, body, init)[3]
    return jnp.where(full, n, jnp.minimum(cnt, n))


class _Renewal(SpikeSource):
    per_connection_random = True
    conn_state = True

    @classmethod
    def recordables(cls):
        return ()

    @classmethod
    def _finite(cls, p, *names):
        for n in names:
            cls._require(p, n, np.isfinite(np.asarray(p[n], float)), f"a finite value{cls._unit_suffix(n)}")

    @classmethod
    def _integer(cls, p, name, lo, nest_msg):
        v = np.asarray(p[name], float)
        cls._require(p, name, np.isfinite(v) & (v >= lo) & (v == np.round(v)),
                     f"an integer >= {lo} (NEST: '{nest_msg}')")


@register
class gamma_sup_generator(_Renewal):
    """Superposition of ``n_proc`` independent gamma processes per target (NEST: gamma_sup_generator).

    Each component is a gamma renewal process of order ``gamma_shape`` (integer) and rate ``rate``:
    ``gamma_shape`` phases passed in turn with probability rate * gamma_shape * dt / 1000 per step,
    a spike when a component leaves the last phase. Per target the generator keeps how many
    components are in each phase, starting from NEST's approximate equilibrium (n_proc // gamma_shape
    in each phase, the rest in the last), and moves them each active step by binomial draws (Poisson
    where NEST uses its approximation). Spikes of one step arrive as one event with that
    multiplicity. Each target (connection, a spike_recorder connected directly included) gets its
    own independent train; the ISI CV of one component is 1 / sqrt(gamma_shape).

    ============= ===== ======= =======================================
    rate          Hz    0       Rate of each component (>= 0)
    gamma_shape   1     1       Order of the gamma processes (integer >= 1)
    n_proc        1     1       Number of superposed components (integer >= 1)
    start, stop, origin ms 0, inf, 0  Activity window (spike generator timing, see the module)
    ============= ===== ======= =======================================

    Differences from NEST: a transition probability above 1 (rate * gamma_shape * dt >= 1000) is
    clipped to 1 (NEST passes it to its binomial draw). When ``gamma_shape`` or ``n_proc`` is changed
    between simulate calls, the targets' states restart from the initial occupation if the number of
    phases changed (NEST keeps the old occupation vectors), and are kept otherwise (as NEST).
    Non-finite rates are refused.
    """

    name = "gamma_sup_generator"
    parameters = {
        "rate": Param(0.0, "Hz", "Rate of each component process"),
        "gamma_shape": Param(1, "1", "Order of the gamma processes", "int"),
        "n_proc": Param(1, "1", "Number of superposed component processes", "int"),
        **_WINDOW,
    }

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._integer(p, "gamma_shape", 1, "The shape must be larger or equal 1")
        cls._require(p, "rate", np.asarray(p["rate"], float) >= 0,
                     "a value >= 0 Hz (NEST: 'The rate must be larger than 0.')")
        cls._finite(p, "rate")
        cls._integer(p, "n_proc", 1, "The number of component processes cannot be smaller than one")

    @classmethod
    def host_arrays(cls, p, dt):
        h = super().host_arrays(p, dt)
        n = len(h["t_lo"])
        rate = np.broadcast_to(np.asarray(p["rate"], float), (n,))
        shape = np.broadcast_to(np.asarray(p["gamma_shape"], float), (n,)).astype(np.int64)
        h["shape"] = shape
        h["n_proc"] = np.broadcast_to(np.asarray(p["n_proc"], float), (n,)).astype(np.int64)
        h["p_trans"] = rate * shape * dt / 1000.0
        h["on"] = (rate > 0).astype(np.int64)
        return h

    @classmethod
    def static_args(cls, p, dt, itemsize):
        h = cls.host_arrays(p, dt)
        return {"walk": _walkable(h["n_proc"], h["p_trans"])}

    @classmethod
    def init_conn_state(cls, p, h, src, k_now):
        a, n = np.asarray(h["shape"])[src], np.asarray(h["n_proc"])[src]
        K = int(np.max(np.asarray(h["shape"]), initial=1))
        ini = n // a
        occ = np.where(np.arange(K)[None, :] < a[:, None], ini[:, None], 0)
        occ[np.arange(len(src)), a - 1] += n - ini * a
        return {"occ": occ.astype(np.asarray(h["p_trans"]).dtype)}

    @classmethod
    def emit(cls, p, h, out, k, dt, key, src, cs, walk=True):
        occ = cs["occ"]
        a = h["shape"][src]
        live = jnp.arange(occ.shape[1])[None, :] < a[:, None]
        on = (_active(h, k) & (h["on"] > 0))[src]
        trans = _transitions(key, occ, jnp.broadcast_to(h["p_trans"][src][:, None], occ.shape).astype(occ.dtype),
                             walk)
        trans = jnp.where(live & on[:, None], trans, 0.0)
        last = jnp.take_along_axis(trans, (a - 1)[:, None], axis=1)[:, 0]
        # phase i passes its leavers to phase i + 1; the last phase's leavers (the spikes) restart at 0
        shifted = jnp.concatenate([last[:, None], trans[:, :-1]], axis=1)
        occ = occ - trans + jnp.where(live, shifted, 0.0)
        return SpikeEmission(last), {"occ": occ}


@register
class ppd_sup_generator(_Renewal):
    """Superposition of ``n_proc`` Poisson processes with dead time per target (NEST: ppd_sup_generator).

    Each component is a renewal process with an absolute dead time ``dead_time`` after each of its
    spikes and, after it, the constant hazard 1 / (1000 / rate - dead_time) per ms (mean rate ``rate``),
    modulated as hazard * (1 + relative_amplitude * sin(2 pi frequency t / 1000)) with t the start of
    the step (ms). Per target the generator keeps how many components are still dead (by age, in
    floor(dead_time / dt) bins of one step) and how many are ready (starting, as NEST, with
    floor(rate * n_proc * dt / 1000) in each dead bin), and draws the spikes of each active step from the
    ready ones (binomial, Poisson where NEST uses its approximation). Spikes of one step arrive as one
    event with that multiplicity; each target gets its own independent train.

    ================== ===== ======= =======================================
    rate               Hz    0       Mean rate of each component (1000 / rate > dead_time)
    dead_time          ms    0       Dead time of each component (>= 0)
    n_proc             1     1       Number of superposed components (integer >= 1)
    frequency          Hz    0       Frequency of the rate modulation
    relative_amplitude 1     0       Relative amplitude of the modulation, in [0, 1]
    start, stop, origin ms   0, inf, 0  Activity window (spike generator timing, see the module)
    ================== ===== ======= =======================================

    Differences from NEST: a hazard above 1 per step is clipped to 1 (NEST passes it to its binomial
    draw). When ``dead_time`` changes the number of dead bins between simulate calls the targets'
    states restart from the initial distribution (NEST keeps the old histograms). Non-finite values are
    refused.
    """

    name = "ppd_sup_generator"
    parameters = {
        "rate": Param(0.0, "Hz", "Mean rate of each component process"),
        "dead_time": Param(0.0, "ms", "Dead time of each component process"),
        "n_proc": Param(1, "1", "Number of superposed component processes", "int"),
        "frequency": Param(0.0, "Hz", "Frequency of the rate modulation"),
        "relative_amplitude": Param(0.0, "1", "Relative amplitude of the rate modulation"),
        **_WINDOW,
    }

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._finite(p, "dead_time", "rate", "frequency", "relative_amplitude")
        d = np.asarray(p["dead_time"], float)
        cls._require(p, "dead_time", d >= 0, "a value >= 0 ms (NEST: 'The dead time cannot be negative.')")
        r = np.asarray(p["rate"], float)
        with np.errstate(divide="ignore"):
            inv = np.where(r == 0, np.inf, 1000.0 / np.where(r == 0, 1.0, r))
        cls._require(p, "rate", inv > d, "1000 / rate > dead_time, i.e. 0 <= rate < 1000 / dead_time Hz (NEST: "
                     "'The inverse rate has to be larger than the dead time.')")
        cls._integer(p, "n_proc", 1, "The number of component processes cannot be smaller than one")
        a = np.asarray(p["relative_amplitude"], float)
        cls._require(p, "relative_amplitude", (a >= 0) & (a <= 1), "a value in [0, 1] (NEST: 'The relative "
                     "amplitude of the rate modulation must be in [0,1].')")

    @classmethod
    def host_arrays(cls, p, dt):
        h = super().host_arrays(p, dt)
        n = len(h["t_lo"])
        b = lambda name: np.broadcast_to(np.asarray(p[name], float), (n,))
        rate, dead, n_proc = b("rate"), b("dead_time"), b("n_proc").astype(np.int64)
        with np.errstate(divide="ignore"):
            hz = np.where(rate > 0, 1.0 / (1000.0 / np.where(rate > 0, rate, 1.0) - dead) * dt, 0.0)
        h["bins"] = np.floor(dead / dt).astype(np.int64)       # NEST: (unsigned long)(dead_time / h)
        h["ini0"] = np.floor(rate / 1000.0 * n_proc * dt).astype(np.int64)
        h["n_proc"] = n_proc
        h["hazard"] = hz
        h["omega"] = 2.0 * np.pi * b("frequency") / 1000.0
        h["amp"] = b("relative_amplitude")
        h["on"] = (rate > 0).astype(np.int64)
        return h

    @classmethod
    def static_args(cls, p, dt, itemsize):
        h = cls.host_arrays(p, dt)
        hz = h["hazard"] * (1.0 + h["amp"])
        return {"walk": _walkable(h["n_proc"], hz)}

    @classmethod
    def init_conn_state(cls, p, h, src, k_now):
        nb, ini, n = (np.asarray(h[x])[src] for x in ("bins", "ini0", "n_proc"))
        B = int(max(1, np.max(np.asarray(h["bins"]), initial=1)))
        dead = np.where(np.arange(B)[None, :] < nb[:, None], ini[:, None], 0)
        fdt = np.asarray(h["hazard"]).dtype
        return {"dead": dead.astype(fdt), "ready": (n - ini * nb).astype(fdt),
                "ptr": np.zeros(len(src), np.int32)}

    @classmethod
    def emit(cls, p, h, out, k, dt, key, src, cs, walk=True):
        dead, ready, ptr = cs["dead"], cs["ready"], cs["ptr"]
        hz = h["hazard"] * (1.0 + h["amp"] * jnp.sin(h["omega"] * (k * dt)))  # t: the start of the step
        on = (_active(h, k) & (h["on"] > 0))[src]
        spk = jnp.where(on, _transitions(key, ready, hz[src].astype(ready.dtype), walk), 0.0)
        nb = h["bins"][src]
        has = on & (nb > 0)
        rows = jnp.arange(dead.shape[0])
        back = dead[rows, ptr]  # the components whose dead time ends now become ready
        ready = jnp.where(has, ready + back - spk, ready)
        dead = dead.at[rows, ptr].set(jnp.where(has, spk, back))
        ptr = jnp.where(has, (ptr + 1) % jnp.maximum(nb, 1), ptr).astype(ptr.dtype)
        return SpikeEmission(spk), {"dead": dead, "ready": ready, "ptr": ptr}


@register
class sinusoidal_gamma_generator(_Renewal):
    """Gamma spike trains with a sinusoidally modulated rate (NEST: sinusoidal_gamma_generator).

    The rate at time t (ms from the start of the simulation) is
    r(t) = rate + amplitude * sin(2 pi frequency t / 1000 + phase * pi / 180), and each train is an
    inhomogeneous gamma process of order ``order``: with Lambda(t) = order * integral of r from the
    train's last spike (or from the start of the run that created it) to t, a spike is sent in the
    step ending at t with probability

        dt * order * r(t) * Lambda^(order - 1) * exp(-Lambda) / Gamma(order, Lambda)

    (Gamma(a, x): the upper incomplete gamma function), drawn in the steps where the generator is
    active and r(t) > 0; Lambda restarts at 0 with each spike. With ``individual_spike_trains``
    (NEST's default) each connection gets its own train (kept per connection); without, one train per
    generator (kept with the generator) goes to every target, a spike_recorder connected directly
    included. A generator set between simulate calls continues its trains with the new parameters
    from then on (Lambda is integrated piecewise, as NEST).

    ======================= ===== ======= ==============================================
    rate                    Hz    0       Mean rate (>= amplitude)
    amplitude               Hz    0       Modulation amplitude, 0 <= amplitude <= rate
    frequency               Hz    0       Modulation frequency
    phase                   deg   0       Modulation phase at t = 0
    order                   1     1       Gamma order (>= 1, need not be an integer)
    individual_spike_trains 1     True    One train per connection (False: one per generator)
    start, stop, origin     ms    0, inf, 0  Activity window (spike generator timing, see the module)
    ======================= ===== ======= ==============================================

    Differences from NEST: NEST lets ``individual_spike_trains`` be set only on the model (SetDefaults
    / CopyModel); nestax takes it per generator at create and set. Lambda is summed step by step (NEST integrates it from the last spike in one piece: the
    two differ by rounding). Where Gamma(order, Lambda) underflows (Lambda of several hundred, a
    train silent for long) NEST's hazard is 0 / 0 and the train never spikes again; nestax uses the
    hazard's limit dt * order * r(t) there. Non-finite values are refused. Recordable (multimeter):
    ``rate`` r(t) at every stamp, active or not (as NEST).
    """

    name = "sinusoidal_gamma_generator"
    run_state_kept = True
    advance_key = True
    parameters = {
        "rate": Param(0.0, "Hz", "Mean rate"),
        "amplitude": Param(0.0, "Hz", "Modulation amplitude"),
        "frequency": Param(0.0, "Hz", "Modulation frequency"),
        "phase": Param(0.0, "deg", "Modulation phase in degrees"),
        "order": Param(1.0, "1", "Gamma order"),
        "individual_spike_trains": Param(True, "1", "One independent train per connection", "bool"),
        **_WINDOW,
    }

    @classmethod
    def check(cls, p):
        super().check(p)
        cls._finite(p, "rate", "amplitude", "frequency", "phase", "order")
        cls._require(p, "order", np.asarray(p["order"], float) >= 1,
                     "a value >= 1 (NEST: 'The gamma order must be at least 1.')")
        r, a = np.asarray(p["rate"], float), np.asarray(p["amplitude"], float)
        r, a = np.broadcast_arrays(r, a)
        nest_msg = " (NEST: 'Rate parameters must fulfill 0 <= amplitude <= rate.')"
        cls._require(p, "amplitude", a >= 0, "0 <= amplitude <= rate" + nest_msg)
        cls._require(p, "rate", r >= 0, "rate >= amplitude >= 0 Hz" + nest_msg)
        cls._require(p, "amplitude", a <= r, "0 <= amplitude <= rate" + nest_msg)

    @classmethod
    def host_arrays(cls, p, dt):
        h = super().host_arrays(p, dt)
        n = len(h["t_lo"])
        b = lambda name: np.broadcast_to(np.asarray(p[name], float), (n,)).copy()
        h["r0"] = b("rate") / 1000.0            # 1/ms
        h["r1"] = b("amplitude") / 1000.0
        h["om"] = 2.0 * np.pi * b("frequency") / 1000.0   # rad/ms
        h["phi"] = b("phase") * np.pi / 180.0
        h["order"] = b("order")
        h["individual"] = np.broadcast_to(np.asarray(p["individual_spike_trains"], bool), (n,)).astype(np.int64)
        h["dt"] = np.full(n, dt)  # advance() is not given the resolution
        return h

    @classmethod
    def recordables(cls):
        return ("rate",)

    @classmethod
    def sampled_value(cls, p, h, s, dt):
        """The recordable ``rate`` (Hz) at stamp s, active or not (as NEST)."""
        return 1000.0 * (h["r0"] + h["r1"] * jnp.sin(h["om"] * (s * dt) + h["phi"]))

    @classmethod
    def init_run_state(cls, h, k_now):
        return {"Lam": np.zeros(len(np.asarray(h["t_lo"])), np.asarray(h["r0"]).dtype)}

    @classmethod
    def init_conn_state(cls, p, h, src, k_now):
        return {"Lam": np.zeros(len(src), np.asarray(h["r0"]).dtype)}

    @classmethod
    def _step(cls, h, Lam, k, dt, u, idx):
        """One step of trains with integrals ``Lam`` (generators ``idx``) and uniforms ``u``:
        (spikes, new Lam)."""
        r0, r1, om, phi, a = (h[x][idx] for x in ("r0", "r1", "om", "phi", "order"))
        ta = k * dt
        tb = (k + 1) * dt
        # NEST: Lambda += a r0 (tb - ta) - a r1 / om (cos(om tb + phi) - cos(om ta + phi)), the second
        # term only where r1 and om are non-zero; the cosine difference as a product of sines
        osc = 2.0 * jnp.sin(om * (ta + tb) / 2 + phi) * jnp.sin(om * dt / 2) / jnp.where(om != 0, om, 1.0)
        Lam = Lam + a * r0 * dt + jnp.where((om != 0) & (r1 != 0), a * r1 * osc, 0.0)
        rate = r0 + r1 * jnp.sin(om * tb + phi)
        L = jnp.maximum(Lam, 0.0)
        Ls = jnp.where(L > 0, L, 1.0)
        # L^(a-1) e^-L / Gamma(a, L), through logs; where the regularised Q(a, L) underflows, the
        # ratio's asymptotic series
        q = gammaincc(a, Ls)
        log_ratio = (a - 1) * jnp.log(Ls) - Ls - jnp.log(jnp.where(q > 0, q, 1.0)) - gammaln(a)
        asym = 1.0 / (1.0 + (a - 1) / Ls + (a - 1) * (a - 2) / Ls ** 2)
        ratio = jnp.where(q > 0, jnp.exp(log_ratio), asym)
        ratio = jnp.where(L > 0, ratio, jnp.where(a == 1, 1.0, 0.0))
        hazard = dt * a * rate * ratio
        on = _active(h, k)[idx] & (rate > 0)
        spk = on & (u < hazard)
        return spk, jnp.where(spk, 0.0, Lam).astype(Lam.dtype)

    @classmethod
    def advance(cls, p, h, rs, k, key=None):
        Lam = rs["Lam"]
        u = jax.random.uniform(key, Lam.shape, dtype=Lam.dtype)
        spk, Lam = cls._step(h, Lam, k, h["dt"][0], u, jnp.arange(Lam.shape[0]))
        return {"Lam": Lam}, spk

    @classmethod
    def emit(cls, p, h, out, k, dt, key, src, cs):
        Lam = cs["Lam"]
        u = jax.random.uniform(key, Lam.shape, dtype=Lam.dtype)
        spk, Lam = cls._step(h, Lam, k, dt, u, src)
        ind = h["individual"][src] > 0
        counts = jnp.where(ind, spk, out[src]).astype(Lam.dtype)
        return SpikeEmission(counts), {"Lam": Lam}
