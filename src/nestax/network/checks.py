"""Connect-time checks: which nodes may talk to which, on which receptor. Each raises at the
``connect`` call that is wrong, before anything is stored."""
from __future__ import annotations

import numpy as np

from ..errors import ConnectionError_


def _what(m):
    if m.kind != "neuron":
        return "a " + m.kind.replace("_", " ")
    return {"spike": "a spiking neuron", "binary": "a binary neuron", "rate": "a rate neuron"}[m.signal]


def signals(scls, pre, post):
    """NEST's compatibility of senders and receivers (model classes ``pre`` and ``post``): spiking,
    binary and rate neurons only talk to their own kind (rate neurons only through rate connections)."""
    if scls.rate_kind:
        for m in pre + post:
            if m.kind != "neuron" or m.signal != "rate":
                raise ConnectionError_(f"connect: {scls.name} connects rate neurons; {m.name} is not a rate "
                                       f"neuron (it is {_what(m)}).")
        return
    for m in post:
        if m.signal == "rate" and any(x.kind == "current_source" for x in pre):
            raise ConnectionError_(f"connect: {m.name} is a rate neuron and takes no current input; drive it "
                                   "with its parameter mu or with other rate neurons.")
    for m in pre + post:
        if m.kind == "neuron" and m.signal == "rate":
            raise ConnectionError_(
                f"connect: {m.name} is a rate neuron; connect rate neurons with synapse_model="
                f"'rate_connection_delayed' or 'rate_connection_instantaneous' (not {scls.name}), and "
                "only to other rate neurons.")
    binary_post = [m for m in post if m.signal == "binary"]
    binary_pre = [m for m in pre if m.kind == "neuron" and m.signal == "binary"]
    if binary_post:
        for m in pre:
            if not ((m.kind == "neuron" and m.signal == "binary") or (m.kind == "current_source" and m.drives_binary)):
                raise ConnectionError_(
                    f"connect: {binary_post[0].name} is a binary neuron; it takes input from binary "
                    f"neurons and from a noise_generator only, not from {m.name} (NEST refuses "
                    "spiking sources and other current generators too; nestax also refuses "
                    "spike_generator and parrot_neuron, whose multiplicity NEST reads as transitions).")
    if binary_pre:
        for m in post:
            if m.signal != "binary":
                raise ConnectionError_(
                    f"connect: {binary_pre[0].name} is a binary neuron; its state transitions go to binary "
                    f"neurons and spike recorders only, not to {m.name}.")
    if scls.plastic and (binary_pre or binary_post):
        raise ConnectionError_(f"connect: {scls.name} between binary neurons is not supported.")


def receptors(blk, r_b, current: bool):
    """The receptor types ``r_b`` of connections onto block ``blk`` exist on its model."""
    if current:
        # current generators feed receptor 0 (NEST's CurrentEvent port) or one of the current receptors
        allowed = sorted({0, *blk.model.current_ports})
        bad = ~np.isin(r_b, allowed)
        ok = " or ".join(map(str, allowed))
        what = " for current input"
    else:
        lo, hi = blk.model.receptor_range(blk.params)
        bad = (r_b < lo) | (r_b > hi)
        ok = f"{lo}" if lo == hi else f"{lo}..{hi}"
        what = ""
    if np.any(bad):
        raise ConnectionError_(f"connect: {blk.model.name} has no receptor_type {int(r_b[bad][0])}{what}; "
                               f"expected {ok}.")


def payload(scls, tm, pre_models, r_b):
    """Receptors that scale a spike by a value its sender computes (iaf_tum_2000's receptor 1: u x)
    take spikes only from senders that compute it (target model ``tm``, receptors ``r_b``)."""
    pr = tm.payload_receptors
    if pr and tm.payload_exclusive and not np.isin(r_b, pr).all():
        if any(m is tm for m in pre_models):  # NEST: IllegalConnection
            raise ConnectionError_(f"connect: {tm.name} neurons must be connected to each other via "
                                   f"receptor_type {pr[0]} (got {int(r_b[~np.isin(r_b, pr)][0])}), as in NEST.")
    if not pr or not np.isin(r_b, pr).any():
        return
    r = int(r_b[np.isin(r_b, pr)][0])
    for m in pre_models:
        sends = m.kind == "neuron" and bool(m.payload_state)
        if not sends or (tm.payload_senders == "same" and m is not tm):
            source = f"a {tm.name}" if tm.payload_senders == "same" else "a neuron model that sends it"
            raise ConnectionError_(
                f"connect: receptor_type {r} of {tm.name} scales each spike by the sender's {tm.payload_doc}, "
                f"which {m.name} does not send (NEST refuses it or multiplies its spikes by 0 there); connect it "
                f"to another receptor, or send from {source}.")
    if scls.plastic:
        raise ConnectionError_(f"connect: {scls.name} onto receptor_type {r} of {tm.name} is not supported.")
