"""Connect-time checks: which nodes may talk to which, on which receptor. Each raises at the
``connect`` call that is wrong, before anything is stored."""
from __future__ import annotations

import numpy as np

from ..errors import BadParameterError, ConnectionError_, did_you_mean


def _what(m):
    if m.kind != "neuron":
        return "a " + m.kind.replace("_", " ")
    return {"spike": "a spiking neuron", "binary": "a binary neuron", "rate": "a rate neuron"}[m.signal]


def signals(scls, pre, post):
    """NEST's compatibility of senders and receivers (model classes ``pre`` and ``post``): spiking,
    binary and rate neurons only talk to their own kind (rate neurons only through rate connections)."""
    if scls.rate_kind:
        # spiking neurons that send or accept this rate event (Neuron.sends_rate_event / accepts_rate_events)
        spiking = [(side, m) for side, ms in (("source", pre), ("target", post)) for m in ms
                   if m.kind == "neuron" and m.signal == "spike"]
        for side, m in spiking:
            sends = m.sends_after_update if scls.rate_kind == "after_update" else m.sends_rate_event
            ok = (sends == scls.rate_event if side == "source"
                  else scls.rate_event in m.accepts_rate_events and (bool(scls.feeds) or bool(m.rate_receptors)))
            if not ok:  # NEST: IllegalConnection
                raise ConnectionError_(
                    f"connect: {scls.name} carries {scls.rate_event} events; the {side} {m.name} is not a rate "
                    f"neuron and does not {'send' if side == 'source' else 'accept'} them (NEST: IllegalConnection "
                    "'Creation of connection is not possible').")
        pre = [m for m in pre if not (m.kind == "neuron" and m.signal == "spike")]
        post = [m for m in post if not (m.kind == "neuron" and m.signal == "spike")]
        for m in pre:  # devices that send rates (RateSource): on the connection kinds they declare
            if m.kind == "rate_source" and (scls.rate_kind not in m.rate_kinds or scls.rate_event != m.rate_event):
                raise ConnectionError_(
                    f"connect: {m.name} sends {m.rate_event} rates through {'/'.join(m.rate_kinds)} rate "
                    f"connections only, not {scls.name} (NEST: IllegalConnection 'The source node does not support "
                    f"{scls.rate_kind if scls.rate_event == m.rate_event else scls.rate_event} "
                    f"{'rate ' if scls.rate_event == 'rate' else ''}output').")
        pre = [m for m in pre if m.kind != "rate_source"]
        for m in pre + post:
            if m.kind != "neuron" or m.signal != "rate":
                raise ConnectionError_(f"connect: {scls.name} connects rate neurons; {m.name} is not a rate "
                                       f"neuron (it is {_what(m)}).")
        for side, ms in (("source", pre), ("target", post)):  # NEST: IllegalConnection
            for m in ms:
                if m.rate_event != scls.rate_event:
                    raise ConnectionError_(
                        f"connect: {scls.name} carries {scls.rate_event} rate events; the {side} {m.name} "
                        f"{'sends' if side == 'source' else 'accepts'} {m.rate_event} rate events only (NEST: "
                        f"'The {side} node does not support {scls.rate_event} "
                        f"{'output' if side == 'source' else 'input'}').")
        return
    for m in pre:
        if m.kind == "neuron" and m.thinned_by and scls.plastic:
            raise ConnectionError_(
                f"connect: {m.name} passes each spike to each target with probability {m.thinned_by}; nestax does "
                f"that on static connections only, not on {scls.name} (connect it with a static synapse and put "
                "the plastic connections behind a parrot_neuron).")
        if m.kind == "rate_source":  # NEST: IllegalConnection
            raise ConnectionError_(
                f"connect: {m.name} sends rates to rate neurons through a {'/'.join(m.rate_kinds)} rate connection "
                f"(synapse_model='rate_connection_delayed'), not through {scls.name} (NEST: 'The target node or "
                "synapse model does not support delayed rate input').")
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
    for m in pre:
        if m.kind == "neuron" and not m.sends_spikes:  # NEST: IllegalConnection
            raise ConnectionError_(
                f"connect: {m.name} sends no spikes (NEST: 'Source node does not send output')"
                + (f"; it sends {m.sends_rate_event} events through the matching rate connection model."
                   if m.sends_rate_event else "."))
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
        allowed = sorted({0, *blk.model.current_port_map(blk.params)})
        bad = ~np.isin(r_b, allowed)
        ok = " or ".join(map(str, allowed))
        what = " for current input"
    else:
        lo, hi = blk.model.receptor_range(blk.params)
        bad = (r_b < lo) | (r_b > hi)
        ok = f"{lo}" if lo == hi else f"{lo}..{hi}" if lo < hi else "none (it has no spike receptors)"
        what = ""
    if np.any(bad):
        raise ConnectionError_(f"connect: {blk.model.name} has no receptor_type {int(r_b[bad][0])}{what}; "
                               f"expected {ok}.")


def rate_receptors(scls, tm, r_b):
    """A spiking neuron that takes rate values on some receptors (``Neuron.rate_receptors``) takes them
    there only, and spikes on the others (NEST: UnknownReceptorType / IllegalConnection)."""
    rr = tm.rate_receptors
    if not rr or tm.signal != "spike":
        return
    bad = ~np.isin(r_b, rr) if scls.rate_kind else np.isin(r_b, rr)
    if np.any(bad):
        what = "rate connections" if scls.rate_kind else f"{scls.name} (spikes)"
        ok = (f"one of {', '.join(map(str, rr))}" if scls.rate_kind
              else f"a receptor other than {', '.join(map(str, rr))}, which take rate connections")
        raise ConnectionError_(f"connect: receptor_type {int(r_b[bad][0])} of {tm.name} does not take {what}; "
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


def own_ports(scls, blk, r_b, attached: bool):
    """Receptors on which every connection gets a port of its own (``Neuron.own_port_receptors``,
    a receptor port per connection in NEST): static synapses only, made before the block's first run."""
    tm = blk.model
    if not tm.own_port_receptors or not np.isin(r_b, tm.own_port_receptors).any():
        return
    r = int(r_b[np.isin(r_b, tm.own_port_receptors)][0])
    if scls.plastic or attached:
        raise ConnectionError_(f"connect: {scls.name}{' with an attached recorder' if attached else ''} onto "
                               f"receptor_type {r} of {tm.name} is not supported (every connection there has "
                               "a state of its own in the target; use a static synapse).")
    if any(np.ndim(blk.state.get(n)) == 2 for n in tm.own_port_state):
        raise ConnectionError_(f"connect: receptor_type {r} connections to {tm.name} can only be made before "
                               "its first simulate, as in NEST (each one gets its own state in the target).")


#: NEST's default waveform-relaxation settings (kernel status), kept per network (Network.wfr)
WFR_DEFAULTS = {"use_wfr": True, "wfr_comm_interval": 1.0, "wfr_tol": 1e-4, "wfr_max_iterations": 15,
                "wfr_interpolation_order": 3}


def wfr(settings: dict, dt: float) -> dict:
    """NEST's waveform-relaxation kernel settings, checked (NEST's messages in brackets)."""
    out = dict(WFR_DEFAULTS)
    for name, v in settings.items():
        if name not in out:
            raise BadParameterError(f"set_wfr: unknown setting {name!r}.{did_you_mean(name, out)} Settings: "
                                    f"{', '.join(out)}.")
        out[name] = v
    bad = None
    if not isinstance(out["use_wfr"], (bool, np.bool_)):
        bad = ("use_wfr", out["use_wfr"], "True or False")
    elif out["wfr_interpolation_order"] not in (0, 1, 3):
        bad = ("wfr_interpolation_order", out["wfr_interpolation_order"], "0, 1 or 3")
    elif not (isinstance(out["wfr_max_iterations"], (int, np.integer)) and out["wfr_max_iterations"] > 0):
        bad = ("wfr_max_iterations", out["wfr_max_iterations"], "an integer > 0")
    elif not out["wfr_tol"] > 0:
        bad = ("wfr_tol", out["wfr_tol"], "a value > 0 mV")
    elif not out["wfr_comm_interval"] >= dt * (1 - 1e-12):
        bad = ("wfr_comm_interval", out["wfr_comm_interval"], f"a value >= the resolution {dt} ms")
    if bad:
        raise BadParameterError(f"set_wfr: kernel setting {bad[0]!r} = {bad[1]!r} is invalid; expected {bad[2]}.")
    if not out["use_wfr"]:  # NEST: communication in every step
        out["wfr_comm_interval"] = dt
    return out


def gap(scls, rule, pre_g, post_g, pre_models, post_models, syn):
    """A ``gap`` synapse (gap_junction) joins neurons that support gap junctions, without a delay,
    symmetrically as NEST requires: one_to_one (or symmetric_pairwise_bernoulli) with
    make_symmetric=True, or all_to_all with equal source and target populations and a scalar weight."""
    gap_no_delay(scls, syn)
    for side, ms in (("source", pre_models), ("target", post_models)):
        for m in ms:
            if m.kind != "neuron" or not m.gap:
                raise ConnectionError_(
                    f"connect: {scls.name} {side} {m.name} does not support gap junctions (it is {_what(m)} "
                    "without gap-junction input); expected a neuron model with gap junctions (NEST: "
                    "hh_psc_alpha_gap, hh_cond_beta_gap_traub).")
    w = syn.get("weight", 1.0)
    scalar = np.ndim(getattr(w, "mantissa", w)) == 0 and not hasattr(w, "sample")
    same = len(pre_g) == len(post_g) and np.array_equal(pre_g, post_g)
    rule_name = rule.name
    if rule.make_symmetric or (rule_name == "all_to_all" and same and scalar):
        return
    raise ConnectionError_(
        f"connect: {scls.name} with rule {rule.name!r} and make_symmetric=False is invalid; expected "
        "symmetric connections: rule 'one_to_one' with make_symmetric=True, or 'all_to_all' with the same "
        "source and target population and a scalar weight (NEST: 'Connections with this synapse model can "
        "only be created as one-to-one connections with make_symmetric set to true or as all-to-all "
        "connections with equal source and target populations and default or scalar parameters').")


def gap_no_delay(scls, syn):
    if "delay" in syn:
        raise ConnectionError_(f"connect: {scls.name} has no parameter 'delay' (got delay = {syn['delay']!r}); "
                               "expected none: gap junctions couple without delay (NEST refuses a delay too).")
