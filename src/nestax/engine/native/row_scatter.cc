// nestax native ring-buffer kernels for the CPU (XLA FFI custom calls).
//
// NestaxRowScatter adds the outgoing rows of every source that spiked in this step into the network's ring buffer:
//
//   for every source i with count c = cnt[i] != 0, for j < deg[i]:
//       ring[((k + d[i, j]) mod D) * slot + tgt[i, j]] += c * w[i, j]      (c alone for counts)
//
// Sources are visited in ascending order and each row left to right, the order in which the
// pure-JAX event kernel (nestax/engine/delivery.py) scatters them, so both give bit-identical sums.
// A weight or delay array of one element is the projection's constant value. The ring is updated in
// place (input 0 aliases output 0); if XLA hands over a separate output buffer, the ring is copied
// into it first.
//
// Large steps (many additions) are split over XLA's intra-op threads by target offset: each thread
// adds the entries of its own range of offsets, visiting the sources in the same order, so every
// address receives its additions in the single-threaded order.
//
// NestaxDenseAdd: ring[((k + d[i]) mod D) * slot + tgt[i]] += val[i] for every i in order (the
// order of XLA's scatter-add), d and val of one element being constants.
// NestaxRingClear: zeroes slot k mod D of the ring. NestaxRingTake: copies slot k mod D out and zeroes it.
//
// Batches (jax.vmap with vmap_method="expand_dims"): every operand may carry leading batch
// dimensions in front of its own shape (ring (L,), cnt (n,), tgt (rows, row_len), w and d
// (rows, row_len) or (1,), deg (rows,), k (1,), val (n,) or (1,)). The ring's leading dimensions
// give the number of variants B; every other operand's leading dimensions hold B elements (one per
// variant) or 1 (shared by all). Variant b is computed exactly as an unbatched call on its slices.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <type_traits>
#include <vector>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// The variants of one operand: its per-variant element count and the stride between variants
// (0: one copy shared by all variants).
struct Lead {
  int64_t stride = 0;
  bool ok = true;
};

template <typename Buf>
Lead lead_of(const Buf& x, size_t base_rank, int64_t B) {
  const auto dims = x.dimensions();
  Lead r;
  if (dims.size() < base_rank) {
    r.ok = false;
    return r;
  }
  int64_t lead = 1, base = 1;
  for (size_t i = 0; i < dims.size(); ++i) (i < dims.size() - base_rank ? lead : base) *= dims[i];
  if (lead != 1 && lead != B) r.ok = false;
  r.stride = lead == 1 ? 0 : base;
  return r;
}

// Number of variants: the product of the ring's leading dimensions (the ring itself is (L,)).
int64_t variants(const ffi::AnyBuffer& ring) {
  const auto dims = ring.dimensions();
  int64_t B = 1;
  for (size_t i = 0; i + 1 < dims.size(); ++i) B *= dims[i];
  return B;
}

// Adds the rows of the spiking sources; with Ranged, only the entries whose target offset t lies in
// [lo, hi) (the part of the slot one thread owns: each address still receives its additions in the
// same order, so the sums are those of the single-threaded loop).
// The sources with a non-zero count, in ascending order, into ``idx``. Spikes are sparse: eight counts
// at a time are tested through their bit patterns (all +0.0: none spiked), then one by one (so -0.0
// still counts as no spike).
template <typename T>
void spiking_sources(const T* cnt, int64_t n, std::vector<int64_t>& idx) {
  using U = typename std::conditional<sizeof(T) == 8, uint64_t, uint32_t>::type;
  idx.clear();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    U any = 0;
    for (int j = 0; j < 8; ++j) {
      U u;
      std::memcpy(&u, cnt + i + j, sizeof(U));
      any |= u;
    }
    if (any == 0) continue;
    for (int j = 0; j < 8; ++j)
      if (cnt[i + j] != T(0)) idx.push_back(i + j);
  }
  for (; i < n; ++i)
    if (cnt[i] != T(0)) idx.push_back(i);
}

template <typename T, bool Ranged>
void scatter_rows(const T* cnt, const std::vector<int64_t>& idx, const int32_t* tgt, int64_t row_len, const T* w,
                  bool const_w, const int32_t* d, bool const_d, const int32_t* deg, int64_t k, int64_t D,
                  int64_t slot, bool counts, T* out, int32_t lo = 0, int32_t hi = 0) {
  const int64_t d0 = const_d ? d[0] : 0;
  const T w0 = const_w ? w[0] : T(0);
  const uint32_t span = static_cast<uint32_t>(hi - lo);
  auto in = [&](int32_t t) { return !Ranged || static_cast<uint32_t>(t - lo) < span; };
  for (const int64_t i : idx) {
    const T c = cnt[i];
    const int64_t base = i * row_len;
    const int32_t* t = tgt + base;
    const int64_t n = deg[i];
    if (const_d) {
      T* dst = out + ((k + d0) % D) * slot;
      if (counts) {
        for (int64_t j = 0; j < n; ++j)
          if (in(t[j])) dst[t[j]] += c;
      } else if (const_w) {
        const T v = c * w0;
        for (int64_t j = 0; j < n; ++j)
          if (in(t[j])) dst[t[j]] += v;
      } else {
        const T* wr = w + base;
        for (int64_t j = 0; j < n; ++j)
          if (in(t[j])) dst[t[j]] += c * wr[j];
      }
    } else {
      const int32_t* dr = d + base;
      for (int64_t j = 0; j < n; ++j) {
        if (!in(t[j])) continue;
        const T v = counts ? c : (const_w ? c * w0 : c * w[base + j]);
        out[((k + dr[j]) % D) * slot + t[j]] += v;
      }
    }
  }
}

// Additions per step above which the rows are split over the intra-op threads by target range.
constexpr int64_t kParallelMin = 16384;

template <typename T>
void scatter_rows_parallel(ffi::ThreadPool& pool, const T* cnt, int64_t n_pre, const int32_t* tgt, int64_t row_len,
                           const T* w, bool const_w, const int32_t* d, bool const_d, const int32_t* deg, int64_t k,
                           int64_t D, int64_t slot, bool counts, T* out, int64_t t_lo, int64_t t_hi) {
  thread_local std::vector<int64_t> buffer;  // reused between calls
  std::vector<int64_t>& idx = buffer;        // (the worker threads read this thread's list)
  spiking_sources(cnt, n_pre, idx);
  int64_t work = 0;
  for (const int64_t i : idx) work += deg[i];
  int64_t P = work >= kParallelMin && t_hi > t_lo + 1 ? pool.num_threads() : 1;
  if (P > 4) P = 4;
  if (P < 2) {
    scatter_rows<T, false>(cnt, idx, tgt, row_len, w, const_w, d, const_d, deg, k, D, slot, counts, out);
    return;
  }
  std::atomic<int64_t> done{0};
  auto part = [&](int64_t p) {
    const int32_t lo = static_cast<int32_t>(t_lo + (t_hi - t_lo) * p / P);
    const int32_t hi = static_cast<int32_t>(t_lo + (t_hi - t_lo) * (p + 1) / P);
    scatter_rows<T, true>(cnt, idx, tgt, row_len, w, const_w, d, const_d, deg, k, D, slot, counts, out, lo, hi);
  };
  for (int64_t p = 1; p < P; ++p) {
    pool.Schedule([&part, &done, p] {
      part(p);
      done.fetch_add(1, std::memory_order_release);
    });
  }
  part(0);
  while (done.load(std::memory_order_acquire) < P - 1) std::this_thread::yield();
}

ffi::Error RowScatterImpl(ffi::AnyBuffer ring, ffi::AnyBuffer cnt, ffi::Buffer<ffi::S32> tgt, ffi::AnyBuffer w,
                          ffi::Buffer<ffi::S32> d, ffi::Buffer<ffi::S32> deg, ffi::Buffer<ffi::S32> k,
                          ffi::Result<ffi::AnyBuffer> out, ffi::ThreadPool pool, int64_t D, int64_t slot,
                          int64_t counts, int64_t t_lo, int64_t t_hi) {
  if (out->untyped_data() != ring.untyped_data()) {
    std::memcpy(out->untyped_data(), ring.untyped_data(), ring.size_bytes());
  }
  const auto tdims = tgt.dimensions();
  if (tdims.size() < 2) return ffi::Error::InvalidArgument("row_scatter: tgt must be (rows, row_len)");
  const int64_t B = variants(ring);
  const int64_t L = ring.dimensions().back();
  const int64_t rows = tdims[tdims.size() - 2], row_len = tdims[tdims.size() - 1];
  const int64_t n_pre = cnt.dimensions().back();
  // w and d: (rows, row_len) per connection, or (1,) for a constant
  auto full = [&](const auto& x) {
    const auto xd = x.dimensions();
    return xd.size() >= 2 && xd[xd.size() - 2] == rows && xd[xd.size() - 1] == row_len;
  };
  const bool const_w = !full(w);
  const bool const_d = !full(d);
  const Lead lc = lead_of(cnt, 1, B), lt = lead_of(tgt, 2, B), lw = lead_of(w, const_w ? 1 : 2, B),
             ld = lead_of(d, const_d ? 1 : 2, B), lg = lead_of(deg, 1, B), lk = lead_of(k, 1, B);
  if (!(lc.ok && lt.ok && lw.ok && ld.ok && lg.ok && lk.ok))
    return ffi::Error::InvalidArgument("row_scatter: an operand's batch dimensions do not match the ring's");
  if (deg.dimensions().back() < n_pre) return ffi::Error::InvalidArgument("row_scatter: deg shorter than cnt");
  const bool f64 = ring.element_type() == ffi::F64 && cnt.element_type() == ffi::F64 && w.element_type() == ffi::F64;
  const bool f32 = ring.element_type() == ffi::F32 && cnt.element_type() == ffi::F32 && w.element_type() == ffi::F32;
  if (!f64 && !f32)
    return ffi::Error::InvalidArgument("row_scatter: ring, cnt and w must all be float32 or all float64");
  for (int64_t b = 0; b < B; ++b) {
    const int64_t kk = k.typed_data()[b * lk.stride];
    const int32_t* tb = tgt.typed_data() + b * lt.stride;
    const int32_t* db = d.typed_data() + b * ld.stride;
    const int32_t* gb = deg.typed_data() + b * lg.stride;
    if (f64) {
      scatter_rows_parallel<double>(pool, cnt.typed_data<double>() + b * lc.stride, n_pre, tb, row_len,
                                    w.typed_data<double>() + b * lw.stride, const_w, db, const_d, gb, kk, D, slot,
                                    counts != 0, out->typed_data<double>() + b * L, t_lo, t_hi);
    } else {
      scatter_rows_parallel<float>(pool, cnt.typed_data<float>() + b * lc.stride, n_pre, tb, row_len,
                                   w.typed_data<float>() + b * lw.stride, const_w, db, const_d, gb, kk, D, slot,
                                   counts != 0, out->typed_data<float>() + b * L, t_lo, t_hi);
    }
  }
  return ffi::Error::Success();
}

template <typename T>
void dense_add(const int32_t* tgt, int64_t n, const T* val, bool const_v, const int32_t* d, bool const_d, int64_t k,
               int64_t D, int64_t slot, T* out) {
  if (const_d) {
    T* dst = out + ((k + d[0]) % D) * slot;
    if (const_v) {
      const T v = val[0];
      for (int64_t i = 0; i < n; ++i) dst[tgt[i]] += v;
    } else {
      for (int64_t i = 0; i < n; ++i) dst[tgt[i]] += val[i];
    }
  } else {
    for (int64_t i = 0; i < n; ++i) out[((k + d[i]) % D) * slot + tgt[i]] += const_v ? val[0] : val[i];
  }
}

ffi::Error DenseAddImpl(ffi::AnyBuffer ring, ffi::Buffer<ffi::S32> tgt, ffi::AnyBuffer val, ffi::Buffer<ffi::S32> d,
                        ffi::Buffer<ffi::S32> k, ffi::Result<ffi::AnyBuffer> out, int64_t D, int64_t slot) {
  if (out->untyped_data() != ring.untyped_data()) {
    std::memcpy(out->untyped_data(), ring.untyped_data(), ring.size_bytes());
  }
  const int64_t B = variants(ring);
  const int64_t L = ring.dimensions().back();
  const int64_t n = tgt.dimensions().back();
  const bool const_v = val.dimensions().back() == 1 && n != 1;
  const bool const_d = d.dimensions().back() == 1 && n != 1;
  if ((!const_v && val.dimensions().back() != n) || (!const_d && d.dimensions().back() != n))
    return ffi::Error::InvalidArgument("dense_add: val and d must have one element or one per target");
  const Lead lt = lead_of(tgt, 1, B), lv = lead_of(val, 1, B), ld = lead_of(d, 1, B),
             lk = lead_of(k, 1, B);
  if (!(lt.ok && lv.ok && ld.ok && lk.ok))
    return ffi::Error::InvalidArgument("dense_add: an operand's batch dimensions do not match the ring's");
  const bool f64 = ring.element_type() == ffi::F64 && val.element_type() == ffi::F64;
  const bool f32 = ring.element_type() == ffi::F32 && val.element_type() == ffi::F32;
  if (!f64 && !f32) return ffi::Error::InvalidArgument("dense_add: ring and val must both be float32 or float64");
  for (int64_t b = 0; b < B; ++b) {
    const int64_t kk = k.typed_data()[b * lk.stride];
    const int32_t* tb = tgt.typed_data() + b * lt.stride;
    const int32_t* db = d.typed_data() + b * ld.stride;
    if (f64) {
      dense_add<double>(tb, n, val.typed_data<double>() + b * lv.stride, const_v, db, const_d, kk, D, slot,
                        out->typed_data<double>() + b * L);
    } else {
      dense_add<float>(tb, n, val.typed_data<float>() + b * lv.stride, const_v, db, const_d, kk, D, slot,
                       out->typed_data<float>() + b * L);
    }
  }
  return ffi::Error::Success();
}

ffi::Error RingClearImpl(ffi::AnyBuffer ring, ffi::Buffer<ffi::S32> k, ffi::Result<ffi::AnyBuffer> out, int64_t D,
                         int64_t slot) {
  if (out->untyped_data() != ring.untyped_data()) {
    std::memcpy(out->untyped_data(), ring.untyped_data(), ring.size_bytes());
  }
  const int64_t width = ffi::ByteWidth(ring.element_type());
  const int64_t B = variants(ring);
  const int64_t L = ring.dimensions().back();
  const Lead lk = lead_of(k, 1, B);
  if (!lk.ok) return ffi::Error::InvalidArgument("ring_clear: k's batch dimensions do not match the ring's");
  for (int64_t b = 0; b < B; ++b) {
    const int64_t start = b * L + (k.typed_data()[b * lk.stride] % D) * slot;
    std::memset(static_cast<char*>(out->untyped_data()) + start * width, 0, slot * width);
  }
  return ffi::Error::Success();
}

// Moves slot k mod D of the ring out into ``cur`` and zeroes it there (the next step's input leaves
// the ring in one pass; a separate read and clear of the slot made XLA copy the carried input).
ffi::Error RingTakeImpl(ffi::AnyBuffer ring, ffi::Buffer<ffi::S32> k, ffi::RemainingArgs, ffi::Result<ffi::AnyBuffer> out,
                        ffi::Result<ffi::AnyBuffer> cur, int64_t D, int64_t slot) {
  if (out->untyped_data() != ring.untyped_data()) {
    std::memcpy(out->untyped_data(), ring.untyped_data(), ring.size_bytes());
  }
  const int64_t width = ffi::ByteWidth(ring.element_type());
  const int64_t B = variants(ring);
  const int64_t L = ring.dimensions().back();
  if (cur->dimensions().back() != slot || cur->element_count() != B * slot)
    return ffi::Error::InvalidArgument("ring_take: cur must hold one slot per variant");
  const Lead lk = lead_of(k, 1, B);
  if (!lk.ok) return ffi::Error::InvalidArgument("ring_take: k's batch dimensions do not match the ring's");
  for (int64_t b = 0; b < B; ++b) {
    char* src = static_cast<char*>(out->untyped_data()) + (b * L + (k.typed_data()[b * lk.stride] % D) * slot) * width;
    std::memcpy(static_cast<char*>(cur->untyped_data()) + b * slot * width, src, slot * width);
    std::memset(src, 0, slot * width);
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(NestaxRingTake, RingTakeImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()           // ring (aliased with the first result)
                                  .Arg<ffi::Buffer<ffi::S32>>()    // k: slot k mod D is taken out
                                  .RemainingArgs()                 // not read: values computed from the
                                                                   // slot taken last step (run after them)
                                  .Ret<ffi::AnyBuffer>()           // the ring, that slot zeroed
                                  .Ret<ffi::AnyBuffer>()           // the slot's values
                                  .Attr<int64_t>("D")
                                  .Attr<int64_t>("slot"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(NestaxDenseAdd, DenseAddImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()           // ring (aliased with the result)
                                  .Arg<ffi::Buffer<ffi::S32>>()    // tgt: ring offsets within a slot
                                  .Arg<ffi::AnyBuffer>()           // val: (n,) or (1,)
                                  .Arg<ffi::Buffer<ffi::S32>>()    // d: (n,) or (1,), steps
                                  .Arg<ffi::Buffer<ffi::S32>>()    // k: the current step
                                  .Ret<ffi::AnyBuffer>()
                                  .Attr<int64_t>("D")
                                  .Attr<int64_t>("slot"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(NestaxRingClear, RingClearImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()           // ring (aliased with the result)
                                  .Arg<ffi::Buffer<ffi::S32>>()    // k: the slot k mod D is zeroed
                                  .Ret<ffi::AnyBuffer>()
                                  .Attr<int64_t>("D")
                                  .Attr<int64_t>("slot"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(NestaxRowScatter, RowScatterImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()           // ring (aliased with the result)
                                  .Arg<ffi::AnyBuffer>()           // cnt: spike count per source
                                  .Arg<ffi::Buffer<ffi::S32>>()    // tgt: (rows, row_len) ring offsets
                                  .Arg<ffi::AnyBuffer>()           // w: (rows, row_len) or (1,)
                                  .Arg<ffi::Buffer<ffi::S32>>()    // d: (rows, row_len) or (1,), steps
                                  .Arg<ffi::Buffer<ffi::S32>>()    // deg: used length of each row
                                  .Arg<ffi::Buffer<ffi::S32>>()    // k: the current step
                                  .Ret<ffi::AnyBuffer>()           // the ring, updated
                                  .Ctx<ffi::ThreadPool>()          // XLA's intra-op threads
                                  .Attr<int64_t>("D")
                                  .Attr<int64_t>("slot")
                                  .Attr<int64_t>("counts")
                                  .Attr<int64_t>("t_lo")           // the targets' offsets lie in [t_lo, t_hi)
                                  .Attr<int64_t>("t_hi"));
