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
// NestaxDenseAdd: ring[((k + d[i]) mod D) * slot + tgt[i]] += val[i] for every i in order (the
// order of XLA's scatter-add), d and val of one element being constants.
// NestaxRingClear: zeroes slot k mod D of the ring.
#include <cstdint>
#include <cstring>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

template <typename T>
void scatter_rows(const T* cnt, int64_t n_pre, const int32_t* tgt, int64_t row_len, const T* w, bool const_w,
                  const int32_t* d, bool const_d, const int32_t* deg, int64_t k, int64_t D, int64_t slot,
                  bool counts, T* out) {
  const int64_t d0 = const_d ? d[0] : 0;
  const T w0 = const_w ? w[0] : T(0);
  for (int64_t i = 0; i < n_pre; ++i) {
    const T c = cnt[i];
    if (c == T(0)) continue;
    const int64_t base = i * row_len;
    const int32_t* t = tgt + base;
    const int64_t n = deg[i];
    if (const_d) {
      T* dst = out + ((k + d0) % D) * slot;
      if (counts) {
        for (int64_t j = 0; j < n; ++j) dst[t[j]] += c;
      } else if (const_w) {
        const T v = c * w0;
        for (int64_t j = 0; j < n; ++j) dst[t[j]] += v;
      } else {
        const T* wr = w + base;
        for (int64_t j = 0; j < n; ++j) dst[t[j]] += c * wr[j];
      }
    } else {
      const int32_t* dr = d + base;
      for (int64_t j = 0; j < n; ++j) {
        const T v = counts ? c : (const_w ? c * w0 : c * w[base + j]);
        out[((k + dr[j]) % D) * slot + t[j]] += v;
      }
    }
  }
}

ffi::Error RowScatterImpl(ffi::AnyBuffer ring, ffi::AnyBuffer cnt, ffi::Buffer<ffi::S32> tgt, ffi::AnyBuffer w,
                          ffi::Buffer<ffi::S32> d, ffi::Buffer<ffi::S32> deg, ffi::Buffer<ffi::S32> k,
                          ffi::Result<ffi::AnyBuffer> out, int64_t D, int64_t slot, int64_t counts) {
  if (out->untyped_data() != ring.untyped_data()) {
    std::memcpy(out->untyped_data(), ring.untyped_data(), ring.size_bytes());
  }
  const auto tdims = tgt.dimensions();
  if (tdims.size() != 2) return ffi::Error::InvalidArgument("row_scatter: tgt must be (rows, row_len)");
  const int64_t row_len = tdims[1];
  const int64_t n_pre = cnt.element_count();
  if (static_cast<int64_t>(deg.element_count()) < n_pre)
    return ffi::Error::InvalidArgument("row_scatter: deg shorter than cnt");
  const bool const_w = w.element_count() == 1;
  const bool const_d = d.element_count() == 1;
  const int64_t kk = k.typed_data()[0];
  if (ring.element_type() == ffi::F64 && cnt.element_type() == ffi::F64 && w.element_type() == ffi::F64) {
    scatter_rows<double>(cnt.typed_data<double>(), n_pre, tgt.typed_data(), row_len, w.typed_data<double>(),
                         const_w, d.typed_data(), const_d, deg.typed_data(), kk, D, slot, counts != 0,
                         out->typed_data<double>());
  } else if (ring.element_type() == ffi::F32 && cnt.element_type() == ffi::F32 && w.element_type() == ffi::F32) {
    scatter_rows<float>(cnt.typed_data<float>(), n_pre, tgt.typed_data(), row_len, w.typed_data<float>(),
                        const_w, d.typed_data(), const_d, deg.typed_data(), kk, D, slot, counts != 0,
                        out->typed_data<float>());
  } else {
    return ffi::Error::InvalidArgument("row_scatter: ring, cnt and w must all be float32 or all float64");
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
  const int64_t n = tgt.element_count();
  const bool const_v = val.element_count() == 1;
  const bool const_d = d.element_count() == 1;
  if ((!const_v && static_cast<int64_t>(val.element_count()) != n) ||
      (!const_d && static_cast<int64_t>(d.element_count()) != n))
    return ffi::Error::InvalidArgument("dense_add: val and d must have one element or one per target");
  const int64_t kk = k.typed_data()[0];
  if (ring.element_type() == ffi::F64 && val.element_type() == ffi::F64) {
    dense_add<double>(tgt.typed_data(), n, val.typed_data<double>(), const_v, d.typed_data(), const_d, kk, D, slot,
                      out->typed_data<double>());
  } else if (ring.element_type() == ffi::F32 && val.element_type() == ffi::F32) {
    dense_add<float>(tgt.typed_data(), n, val.typed_data<float>(), const_v, d.typed_data(), const_d, kk, D, slot,
                     out->typed_data<float>());
  } else {
    return ffi::Error::InvalidArgument("dense_add: ring and val must both be float32 or float64");
  }
  return ffi::Error::Success();
}

ffi::Error RingClearImpl(ffi::AnyBuffer ring, ffi::Buffer<ffi::S32> k, ffi::Result<ffi::AnyBuffer> out, int64_t D,
                         int64_t slot) {
  if (out->untyped_data() != ring.untyped_data()) {
    std::memcpy(out->untyped_data(), ring.untyped_data(), ring.size_bytes());
  }
  const int64_t width = ffi::ByteWidth(ring.element_type());
  const int64_t start = (k.typed_data()[0] % D) * slot;
  std::memset(static_cast<char*>(out->untyped_data()) + start * width, 0, slot * width);
  return ffi::Error::Success();
}

}  // namespace

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
                                  .Attr<int64_t>("D")
                                  .Attr<int64_t>("slot")
                                  .Attr<int64_t>("counts"));
