"""Native CPU kernels, called from the compiled step through XLA's FFI.

XLA's CPU scatter costs about 10 ns per element; spike delivery of a large network is almost
entirely scatter (spikes x fan-out additions into the ring buffer). ``row_scatter.cc`` does the same
additions in a plain C++ loop, in the same order as the pure-JAX kernel (so sums are bit-identical),
and is called as a custom call inside the compiled step: no host round trip.

The kernel is compiled on first use with the C++ compiler found on the machine (``$CXX``, else
``c++`` / ``g++`` / ``clang++``) against the FFI headers that ship with jaxlib, and cached under
``$NESTAX_CACHE_DIR/native`` (default ``~/.cache/nestax/native``), keyed by the source, the jaxlib
version and the compiler. ``python -m nestax.engine.native`` builds it ahead of time. Where no
compiler is present, the build fails, or ``NESTAX_NATIVE=0`` is set, nestax uses the pure-JAX
kernels (same results, slower on large networks); :func:`status` says which and why.

:func:`unroll_threefry` makes JAX lower its threefry random-bit hash unrolled on the CPU too (JAX
rolls it into a 5-trip loop there to save compile time): the same bits, about 3.7x faster per
draw, which matters for networks with Poisson input drawn every step.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

_SOURCE = Path(__file__).with_name("row_scatter.cc")
TARGET = "nestax_row_scatter"
TARGETS = {TARGET: "NestaxRowScatter", "nestax_dense_add": "NestaxDenseAdd", "nestax_ring_clear": "NestaxRingClear",
           "nestax_ring_take": "NestaxRingTake"}
_state: dict = {}


def _cache_dir() -> Path:
    base = os.environ.get("NESTAX_CACHE_DIR", "")
    if base and base.lower() != "off":
        return Path(base) / "native"
    return Path.home() / ".cache" / "nestax" / "native"


def _compiler() -> str | None:
    for c in (os.environ.get("CXX"), "c++", "g++", "clang++"):
        if c and shutil.which(c):
            return shutil.which(c)
    return None


def _build() -> Path:
    import jax.ffi
    import jaxlib

    cxx = _compiler()
    if cxx is None:
        raise RuntimeError("no C++ compiler found (set CXX, or install g++)")
    src = _SOURCE.read_bytes()
    key = hashlib.sha256(src + jaxlib.__version__.encode() + cxx.encode()).hexdigest()[:16]
    out = _cache_dir() / f"row_scatter-{key}.so"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        tmp_so = Path(tmp) / out.name
        cmd = [cxx, "-O3", "-std=c++17", "-shared", "-fPIC", "-w", "-I", jax.ffi.include_dir(), str(_SOURCE),
               "-o", str(tmp_so)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"compiling {_SOURCE.name} failed: {r.stderr.strip()[-2000:]}")
        os.replace(tmp_so, out)  # atomic: concurrent processes never load a half-written library
    return out


def _load() -> bool:
    if "ok" in _state:
        return _state["ok"]
    try:
        import jax
        import jax.ffi

        so = _build()
        lib = ctypes.cdll.LoadLibrary(str(so))
        for name, symbol in TARGETS.items():
            jax.ffi.register_ffi_target(name, jax.ffi.pycapsule(getattr(lib, symbol)), platform="cpu")
        _state.update(ok=True, why=f"built: {so}")
    except Exception as e:  # noqa: BLE001 - any failure means: use the pure-JAX kernel
        _state.update(ok=False, why=f"{type(e).__name__}: {e}")
    return _state["ok"]


def _off() -> bool:
    return os.environ.get("NESTAX_NATIVE", "1").strip().lower() in ("0", "off", "false", "no")


def unroll_threefry() -> bool:
    """Lower ``threefry2x32`` unrolled on the CPU (identical random bits; JAX's private lowering
    rules, so any failure leaves JAX's default in place). Returns whether it is in effect."""
    if "threefry" in _state:
        return _state["threefry"]
    ok = False
    if not _off():
        try:
            from jax._src.interpreters import mlir
            from jax._src.random import threefry2x32 as tf

            mlir.register_lowering(tf.threefry2x32_p, tf._threefry2x32_lowering_rule, platform="cpu")
            ok = True
        except Exception:  # noqa: BLE001 - a JAX without these internals: keep its lowering
            ok = False
    _state["threefry"] = ok
    return ok


def enabled() -> bool:
    """True when the native kernels are to be used (CPU backend, not switched off, built)."""
    if _off() or _state.get("suspended", 0):
        return False
    import jax

    if jax.default_backend() != "cpu":
        return False
    return _load()


def status() -> str:
    """Whether the native kernels are in use, and why (for bug reports and benchmarks)."""
    if _off():
        return "off (NESTAX_NATIVE=0)"
    import jax

    if jax.default_backend() != "cpu":
        return f"off (backend {jax.default_backend()}: the pure-JAX kernels run on accelerators)"
    return ("on, " if _load() else "off, ") + _state["why"]


def row_scatter(ring, cnt, tgt, w, d, deg, k, D: int, slot: int, counts: bool, t_range=(0, 0)):
    """The ring with the rows of this step's spiking sources added (see row_scatter.cc). ``t_range``:
    the targets' offsets within a slot lie in [lo, hi) (large steps are split over threads by it)."""
    import jax.numpy as jnp

    return _call(TARGET, ring, cnt.astype(ring.dtype), tgt, jnp.asarray(w, ring.dtype), d, deg, _step(k),
                 D=D, slot=slot, counts=int(bool(counts)), t_lo=int(t_range[0]), t_hi=int(t_range[1]))


def _call(target, ring, *args, **attrs):
    import jax
    import numpy as np

    call = jax.ffi.ffi_call(target, jax.ShapeDtypeStruct(ring.shape, ring.dtype), input_output_aliases={0: 0},
                            vmap_method="expand_dims")  # the kernels loop over the variants (row_scatter.cc)
    return call(ring, *args, **{n: np.int64(v) for n, v in attrs.items()})


def _step(k):
    import jax.numpy as jnp

    return jnp.asarray(k, jnp.int32).reshape(1)


def dense_add(ring, k, d, flat_tgt, val, D: int, slot: int):
    """``ring`` with ``val`` added at ((k + d) mod D) * slot + flat_tgt, in order (see row_scatter.cc)."""
    import jax.numpy as jnp

    val = jnp.asarray(val, ring.dtype).reshape(-1)
    d = jnp.asarray(d, jnp.int32).reshape(-1)
    return _call("nestax_dense_add", ring, jnp.asarray(flat_tgt, jnp.int32).reshape(-1), val, d, _step(k),
                 D=D, slot=slot)


def ring_clear(ring, k, D: int, slot: int):
    """``ring`` with slot k mod D zeroed."""
    return _call("nestax_ring_clear", ring, _step(k), D=D, slot=slot)


def ring_take(ring, k, D: int, slot: int, after=()):
    """(``ring`` with slot k mod D zeroed, that slot's values): the next step's input taken out.
    ``after``: arrays the kernel does not read but runs after (everything computed from the input it
    replaces, so that XLA can write the new input over the old one instead of copying the old)."""
    import jax
    import numpy as np

    call = jax.ffi.ffi_call("nestax_ring_take", (jax.ShapeDtypeStruct(ring.shape, ring.dtype),
                                                 jax.ShapeDtypeStruct((slot,), ring.dtype)),
                            input_output_aliases={0: 0}, vmap_method="expand_dims")
    return call(ring, _step(k), *after, D=np.int64(D), slot=np.int64(slot))


class suspended:
    """``with native.suspended(): ...``: lower with the pure-JAX kernels (e.g. for differentiation:
    the native kernels have no derivative rules)."""

    def __enter__(self):
        _state["suspended"] = _state.get("suspended", 0) + 1
        return self

    def __exit__(self, *exc):
        _state["suspended"] -= 1
        return False
