"""Rate neurons and rate transformers (NEST: *_rate_ipn, *_rate_opn, rate_transformer_*;
Hahne et al. 2017).

Three kinds of node, each with one of six input nonlinearities phi:

- ``<phi>_rate_ipn``: rate with input noise, ``tau dX = (-lambda X + mu + phi(input)) dt + sqrt(tau) sigma dW``;
- ``<phi>_rate_opn``: rate with output noise, ``tau dX = (-X + mu + phi(input)) dt``, sending
  ``X + sqrt(tau / dt) sigma xi`` (xi a standard normal number drawn every step);
- ``rate_transformer_<phi>``: no dynamics, ``X = phi(input)`` of the previous step.

Rate neurons talk only to rate neurons, through rate_connection_delayed and
rate_connection_instantaneous (see :mod:`nestax.models.synapses.rate`). NEST's parameter ``lambda``
is a Python keyword: pass it as ``lambda_=`` (or in the ``params`` dict as ``"lambda"``). NEST's old
names ``mean`` and ``std`` are accepted for ``mu`` and ``sigma`` (gauss_rate_ipn: see its docstring).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..base import Neuron, Param, State
from ..common import route_by_sign, route_one_port
from ..registry import models as _MODELS_NOW, register, register_template


# ---- input nonlinearities (NEST's nonlinearities_* classes) ---------------------------------------

class _Gauss:
    phi_name, phi_formula = "gauss", "g exp(-(h - mu)^2 / (2 sigma^2))"
    phi_params = {
        "g": Param(1.0, "1", "Gain"),
        "mu": Param(0.0, "1", "Centre of the Gaussian"),
        "sigma": Param(0.0, "1", "Width of the Gaussian (NEST's default 0 makes phi 0 except at h = mu)"),
    }

    @staticmethod
    def input_nl(p, h):
        return p["g"] * jnp.exp(-(h - p["mu"]) ** 2 / (2.0 * p["sigma"] ** 2))


class _Lin:
    phi_name, phi_formula = "lin", "g h; multiplicative coupling H_ex = g_ex (theta_ex - X), H_in = g_in (theta_in + X)"
    phi_params = {
        "g": Param(1.0, "1", "Gain"),
        "g_ex": Param(1.0, "1", "Linear factor of the excitatory multiplicative coupling"),
        "g_in": Param(1.0, "1", "Linear factor of the inhibitory multiplicative coupling"),
        "theta_ex": Param(0.0, "1", "Offset of the excitatory multiplicative coupling"),
        "theta_in": Param(0.0, "1", "Offset of the inhibitory multiplicative coupling"),
    }

    @staticmethod
    def input_nl(p, h):
        return p["g"] * h

    @staticmethod
    def mult_ex(p, r):
        return p["g_ex"] * (p["theta_ex"] - r)

    @staticmethod
    def mult_in(p, r):
        return p["g_in"] * (p["theta_in"] + r)


class _Sigmoid:
    phi_name, phi_formula = "sigmoid", "g / (1 + exp(-beta (h - theta)))"
    phi_params = {
        "g": Param(1.0, "1", "Gain"),
        "beta": Param(1.0, "1", "Slope"),
        "theta": Param(0.0, "1", "Inflection point"),
    }

    @staticmethod
    def input_nl(p, h):
        return p["g"] / (1.0 + jnp.exp(-p["beta"] * (h - p["theta"])))


class _SigmoidGG1998:
    phi_name, phi_formula = "sigmoid_gg_1998", "(g h)^4 / (0.1^4 + (g h)^4)   (Gancarz & Grossberg 1998)"
    phi_params = {"g": Param(1.0, "1", "Gain")}

    @staticmethod
    def input_nl(p, h):
        x4 = (p["g"] * h) ** 4
        return x4 / (0.1 ** 4 + x4)


class _Tanh:
    phi_name, phi_formula = "tanh", "tanh(g (h - theta))"
    phi_params = {
        "g": Param(1.0, "1", "Gain"),
        "theta": Param(0.0, "1", "Inflection point"),
    }

    @staticmethod
    def input_nl(p, h):
        return jnp.tanh(p["g"] * (h - p["theta"]))


class _ThresholdLin:
    phi_name, phi_formula = "threshold_lin", "min(max(g (h - theta), 0), alpha)"
    phi_params = {
        "g": Param(1.0, "1", "Gain"),
        "theta": Param(0.0, "1", "Threshold"),
        "alpha": Param(np.inf, "1", "Saturation"),
    }

    @staticmethod
    def input_nl(p, h):
        return jnp.minimum(jnp.maximum(p["g"] * (h - p["theta"]), 0.0), p["alpha"])


def _mult(nl, which, p, r):
    """NEST's multiplicative coupling factor H_ex / H_in (1 for every phi but lin)."""
    f = getattr(nl, "mult_" + which, None)
    return jnp.ones_like(r) if f is None else f(p, r)


# ---- the three node kinds ----------------------------------------------------------------------

class _RateBase(Neuron):
    kind = "neuron"
    settable_state = ("rate",)  # what NEST's SetStatus accepts
    signal = "rate"
    weight_unit = "1"

    @classmethod
    def _inputs(cls, p, rate, x_ex, x_in, P2, sent):
        """Add the step's input to ``rate`` in NEST's order of operations."""
        lin, mult = p["linear_summation"], p["mult_coupling"]
        h_ex = jnp.where(mult, _mult(cls, "ex", p, sent), 1.0)
        h_in = jnp.where(mult, _mult(cls, "in", p, sent), 1.0)
        linear_mult = rate + P2 * h_ex * cls.input_nl(p, x_ex) + P2 * h_in * cls.input_nl(p, x_in)
        linear_plain = rate + P2 * cls.input_nl(p, x_ex + x_in)
        summed = rate + P2 * h_ex * x_ex + P2 * h_in * x_in
        return jnp.where(lin, jnp.where(mult, linear_mult, linear_plain), summed)

    @classmethod
    def route(cls, weights, receptor_type):
        return route_by_sign(weights, zero="ex")  # NEST: weight >= 0 is excitatory

    @classmethod
    def _no_spikes(cls, x):
        return jnp.zeros(x.shape, jnp.int32)


class _RateIPN(_RateBase):
    stochastic = True
    ports = ("ex", "in")
    drive = ("mu", "sigma")  # names of the neuron's drive and noise parameters
    state = {
        "rate": State("1", 0.0, "Rate"),
        "noise": State("1", 0.0, "Noise of the last step (sigma x standard normal)"),
    }

    @classmethod
    def neuron_params(cls):
        mu, sigma = cls.drive
        return {
            "tau": Param(10.0, "ms", "Time constant of the rate dynamics"),
            "lambda": Param(1.0, "1", "Passive decay rate"),
            sigma: Param(1.0, "1", "Noise strength"),
            mu: Param(0.0, "1", "Constant drive"),
            "rectify_rate": Param(0.0, "1", "Lower bound of the rate when rectify_output is on"),
            "linear_summation": Param(True, "1", "phi of the summed input (True) or sum of phi of each input", "bool"),
            "rectify_output": Param(False, "1", "Keep the rate >= rectify_rate", "bool"),
            "mult_coupling": Param(False, "1", "Multiplicative coupling", "bool"),
        }

    @classmethod
    def check(cls, p):
        cls._positive(p, "tau")
        cls._nonnegative(p, "lambda", cls.drive[1], "rectify_rate")

    @classmethod
    def prepare(cls, p, dt):
        x = p["lambda"] * dt / p["tau"]
        lam = jnp.where(p["lambda"] > 0, p["lambda"], 1.0)
        decay = p["lambda"] > 0
        return {
            # exponential Euler for lambda > 0, Euler-Maruyama for lambda = 0 (NEST)
            "P1": jnp.where(decay, jnp.exp(-x), 1.0),
            "P2": jnp.where(decay, -jnp.expm1(-x) / lam, dt / p["tau"]),
            "noise_factor": jnp.where(decay, jnp.sqrt(-0.5 * jnp.expm1(-2.0 * x) / lam), jnp.sqrt(dt / p["tau"])),
        }

    @classmethod
    def emit(cls, p, d, s, key=None):
        return s["rate"], s

    @classmethod
    def update(cls, p, d, s, syn, I, key):
        mu, sigma = cls.drive
        old = s["rate"]
        noise = p[sigma] * jax.random.normal(key, old.shape, old.dtype)
        rate = d["P1"] * old + d["P2"] * p[mu] + d["noise_factor"] * noise
        rate = cls._inputs(p, rate, syn[0], syn[1], d["P2"], old)
        rate = jnp.where(p["rectify_output"] & (rate < p["rectify_rate"]), p["rectify_rate"], rate)
        return {"rate": rate, "noise": noise}, cls._no_spikes(old)


class _RateOPN(_RateBase):
    stochastic = True
    ports = ("ex", "in")
    state = {
        "rate": State("1", 0.0, "Rate (without the output noise)"),
        "noise": State("1", 0.0, "Noise of the current step (sigma x standard normal)"),
        "noisy_rate": State("1", 0.0, "Rate sent in the current step: rate + sqrt(tau / dt) noise"),
    }

    @classmethod
    def neuron_params(cls):
        return {
            "tau": Param(10.0, "ms", "Time constant of the rate dynamics"),
            "sigma": Param(1.0, "1", "Noise strength"),
            "mu": Param(0.0, "1", "Constant drive"),
            "linear_summation": Param(True, "1", "phi of the summed input (True) or sum of phi of each input", "bool"),
            "mult_coupling": Param(False, "1", "Multiplicative coupling", "bool"),
        }

    @classmethod
    def check(cls, p):
        cls._positive(p, "tau")
        cls._nonnegative(p, "sigma")

    @classmethod
    def prepare(cls, p, dt):
        return {"P1": jnp.exp(-dt / p["tau"]), "P2": -jnp.expm1(-dt / p["tau"]),
                "noise_factor": jnp.sqrt(p["tau"] / dt)}

    @classmethod
    def emit(cls, p, d, s, key):
        noise = p["sigma"] * jax.random.normal(key, s["rate"].shape, s["rate"].dtype)
        noisy = s["rate"] + d["noise_factor"] * noise
        return noisy, {**s, "noise": noise, "noisy_rate": noisy}

    @classmethod
    def update(cls, p, d, s, syn, I, key):
        rate = d["P1"] * s["rate"] + d["P2"] * p["mu"]
        rate = cls._inputs(p, rate, syn[0], syn[1], d["P2"], s["noisy_rate"])
        return {**s, "rate": rate}, cls._no_spikes(rate)


class _Transformer(_RateBase):
    ports = ("rates",)
    state = {"rate": State("1", 0.0, "Rate: phi of the previous step's input")}

    @classmethod
    def neuron_params(cls):
        return {"linear_summation": Param(True, "1", "phi of the summed input (True) or sum of phi of each input",
                                          "bool")}

    @classmethod
    def route(cls, weights, receptor_type):
        return route_one_port(weights)

    @classmethod
    def prepare(cls, p, dt):
        return {}

    @classmethod
    def emit(cls, p, d, s):
        return s["rate"], s

    @classmethod
    def update(cls, p, d, s, syn, I):
        x = syn[0]
        return {"rate": jnp.where(p["linear_summation"], cls.input_nl(p, x), x)}, cls._no_spikes(x)


# ---- docstrings and registration ---------------------------------------------------------------

def _table(params):
    rows = [(n, sp.unit, "inf" if sp.default == np.inf else repr(sp.default), sp.doc) for n, sp in params.items()]
    w = [max(len(r[i]) for r in rows + [("", "", "", "")]) for i in range(3)]
    line = " ".join("=" * max(x, 1) for x in w) + " " + "=" * 40
    body = "\n".join(f"    {r[0]:<{w[0]}} {r[1]:<{w[1]}} {r[2]:<{w[2]}} {r[3]}" for r in rows)
    return f"    {line}\n{body}\n    {line}"


_IPN_DOC = """Rate neuron with input noise and {phi} input nonlinearity (NEST: {name}; also
    ``nx.rate_neuron_ipn("{phi}")``, NEST's template rate_neuron_ipn).

    tau dX/dt = -lambda X + {mu} + phi(h) + sqrt(tau) {sigma} xi(t),   phi(h) = {formula}

    Step k (NEST 3.10): the neuron sends X(k) (its rate at the start of the step) on its rate
    connections; then X(k+1) = P1 X(k) + P2 {mu} + N {sigma} xi_k + P2 phi(h_k), with
    P1 = exp(-lambda dt / tau), P2 = (1 - P1) / lambda, N = sqrt((1 - P1^2) / (2 lambda))
    (lambda = 0: P1 = 1, P2 = dt / tau, N = sqrt(dt / tau)). h_k is the weighted sum of the rates
    arriving in step k (delayed connections: sent delay earlier; instantaneous: sent in step k).
    With linear_summation=False each input is passed through phi before the weighted sum; with
    mult_coupling=True the excitatory and inhibitory sums are each multiplied by H_ex(X(k)) and
    H_in(X(k)). With rectify_output=True, X is kept >= rectify_rate.
{extra}
    Deterministic with {sigma} = 0 (exact against NEST); with noise, nestax's normal numbers are not
    NEST's, so rates agree in distribution.

    Parameters (NEST defaults):

{table}

    Recordables: rate, noise. Weights: dimensionless; weight >= 0 goes to the excitatory sum.
    """

_OPN_DOC = """Rate neuron with output noise and {phi} input nonlinearity (NEST: {name}; also
    ``nx.rate_neuron_opn("{phi}")``, NEST's template rate_neuron_opn).

    tau dX/dt = -X + mu + phi(h),   sent: X + sqrt(tau / dt) sigma xi_k,   phi(h) = {formula}

    Step k (NEST 3.10): a standard normal xi_k is drawn, noisy_rate = X(k) + sqrt(tau / dt) sigma xi_k
    is sent on the rate connections; then X(k+1) = P1 X(k) + P2 mu + P2 phi(h_k), with
    P1 = exp(-dt / tau), P2 = 1 - P1, and h_k the weighted sum of the rates arriving in step k.
    linear_summation and mult_coupling (H evaluated at the noisy rate) as for the ipn models.
    Deterministic with sigma = 0 (exact against NEST); with noise, in distribution.

    Parameters (NEST defaults):

{table}

    Recordables: rate, noise, noisy_rate. Weights: dimensionless; weight >= 0 is excitatory.
    """

_TRANSFORMER_DOC = """Rate transformer with {phi} nonlinearity (NEST: {name}; also
    ``nx.rate_transformer_node("{phi}")``, NEST's template rate_transformer_node).

    X(k+1) = phi(h_k), phi(h) = {formula}; h_k is the weighted sum of the rates arriving in step k
    (with linear_summation=False: the weighted sum of phi of each arriving rate, X = that sum). It
    sends X(k) in step k, so it turns the rates of other nodes into phi of them, one step later.
    Deterministic: exact against NEST.

    Parameters (NEST defaults):

{table}

    Recordables: rate. Weights: dimensionless, any sign.
    """

_GAUSS_NOTE = """
    Naming: NEST's gauss_rate_ipn reads the keys mu and sigma for both the neuron's drive and noise
    and the Gaussian's centre and width (its defaults 0 and 1 for the neuron, 0 and 0 for the
    Gaussian; GetStatus shows the Gaussian's and reports the neuron's as mean and std). nestax keeps
    them apart: mu and sigma are the Gaussian's, mean and std the neuron's drive and noise. A NEST
    script that sets sigma (or mu) on gauss_rate_ipn sets both in NEST; set std (or mean) too here.
"""


def _make(kind_cls, nl, name, doc):
    ns = {"name": name, "__module__": __name__}
    cls = type(name, (nl, kind_cls), ns)
    if kind_cls is _RateIPN and nl is _Gauss:
        cls.drive = ("mean", "std")
    elif kind_cls is not _Transformer:
        cls.aliases = {"mean": "mu", "std": "sigma"}  # NEST's old names, still accepted by NEST
    cls.parameters = {**cls.neuron_params(), **nl.phi_params}
    mu, sigma = getattr(cls, "drive", ("mu", "sigma"))
    cls.__doc__ = doc.format(phi=nl.phi_name, name=name, formula=nl.phi_formula, mu=mu, sigma=sigma,
                             extra=_GAUSS_NOTE if cls.__dict__.get("drive") else "",
                             table=_table(cls.parameters))
    return register(cls)


_NONLINEARITIES = (_Gauss, _Lin, _Sigmoid, _SigmoidGG1998, _Tanh, _ThresholdLin)
def _neuron_name(nl, noise):
    # NEST's names: <phi>_rate_<noise>, except sigmoid_rate_gg_1998_ipn
    return ("sigmoid_rate_gg_1998" if nl is _SigmoidGG1998 else f"{nl.phi_name}_rate") + "_" + noise


for _nl in _NONLINEARITIES:
    globals()[_neuron_name(_nl, "ipn")] = _make(_RateIPN, _nl, _neuron_name(_nl, "ipn"), _IPN_DOC)
    globals()[f"rate_transformer_{_nl.phi_name}"] = _make(_Transformer, _nl, f"rate_transformer_{_nl.phi_name}",
                                                          _TRANSFORMER_DOC)
for _nl in (_Lin, _Tanh, _ThresholdLin):  # NEST has output-noise models for these three only
    globals()[_neuron_name(_nl, "opn")] = _make(_RateOPN, _nl, _neuron_name(_nl, "opn"), _OPN_DOC)


# ---- templates: NEST's rate_neuron_ipn< nonlinearity >, rate_neuron_opn< >, rate_transformer_node< > ------
# NEST builds its named rate models from three C++ templates and six nonlinearity classes; these
# factories give the same choice by name and return the registered model (equal, not a copy).

#: nonlinearity names (NEST's model-name stems and its nonlinearities_* class names) -> class
_NL_BY_NAME = {**{nl.phi_name: nl for nl in _NONLINEARITIES}, "sigmoid_rate_gg_1998": _SigmoidGG1998,
               **{f"nonlinearities_{nl.phi_name}_rate": nl for nl in _NONLINEARITIES if nl is not _SigmoidGG1998},
               "nonlinearities_sigmoid_rate_gg_1998": _SigmoidGG1998}
_TEMPLATES = {
    "rate_neuron_ipn": lambda nl: _neuron_name(nl, "ipn"),
    "rate_neuron_opn": lambda nl: _neuron_name(nl, "opn"),
    "rate_transformer_node": lambda nl: f"rate_transformer_{nl.phi_name}",
}


def _from_template(template, nonlinearity, params):
    from ...errors import BadParameterError, did_you_mean
    from ..registry import _MODELS
    names = [n for n in _NL_BY_NAME if not n.startswith("nonlinearities_")]
    if not isinstance(nonlinearity, str) or nonlinearity not in _NL_BY_NAME:
        raise BadParameterError(
            f"{template}: nonlinearity {nonlinearity!r} is unknown; expected one of "
            f"{', '.join(repr(n) for n in names)}.{did_you_mean(str(nonlinearity), names)}")
    name = _TEMPLATES[template](_NL_BY_NAME[nonlinearity])
    if name not in _MODELS:
        have = [n for n in names if _TEMPLATES[template](_NL_BY_NAME[n]) in _MODELS]
        raise BadParameterError(
            f"{template}: nonlinearity {nonlinearity!r} has no {template} model in NEST 3.10 ({name} does not "
            f"exist); expected one of {', '.join(repr(n) for n in have)}.")
    cls = _MODELS[name]
    return cls(**params) if params else cls


def rate_neuron_ipn(nonlinearity, **params):
    """NEST's template rate_neuron_ipn<nonlinearity>: the named input-noise rate model of that
    nonlinearity ("gauss", "lin", "sigmoid", "sigmoid_rate_gg_1998", "tanh", "threshold_lin"; NEST's
    class names "nonlinearities_tanh_rate", ... too). Returns the registered model (``tanh`` ->
    :class:`tanh_rate_ipn`), or a model spec with ``params`` as overrides:
    ``sim.create(nx.rate_neuron_ipn("tanh", g=2.0), 10)``."""
    return _from_template("rate_neuron_ipn", nonlinearity, params)


def rate_neuron_opn(nonlinearity, **params):
    """NEST's template rate_neuron_opn<nonlinearity>: the named output-noise rate model ("lin", "tanh",
    "threshold_lin": NEST 3.10 has no others). See :func:`rate_neuron_ipn`."""
    return _from_template("rate_neuron_opn", nonlinearity, params)


def rate_transformer_node(nonlinearity, **params):
    """NEST's template rate_transformer_node<nonlinearity>: the named rate transformer (``tanh`` ->
    :class:`rate_transformer_tanh`). See :func:`rate_neuron_ipn`."""
    return _from_template("rate_transformer_node", nonlinearity, params)


for _t, _f in (("rate_neuron_ipn", rate_neuron_ipn), ("rate_neuron_opn", rate_neuron_opn),
               ("rate_transformer_node", rate_transformer_node)):
    _models = sorted({_TEMPLATES[_t](nl) for nl in _NONLINEARITIES} & set(_MODELS_NOW()))
    register_template(_t, _f, f"give it a nonlinearity, nestax.{_t}('tanh') or create('{_t}', n, "
                      f"nonlinearity='tanh'), or name the model ({', '.join(repr(m) for m in _models)}).")
