// Implementation of byol_vision.h. Compiles against libtorch 1.13 (Debian, CPU) and 2.x (CUDA):
// every call used here exists in both.
#include "byol_vision.h"
#include "internal.h"

#include <algorithm>
#include <functional>
#include <mutex>

#include <ATen/Parallel.h>

#if __has_include(<cuda_runtime_api.h>) && __has_include(<c10/cuda/CUDAFunctions.h>)
#include <c10/cuda/CUDAFunctions.h>
#define BYOL_CUDA_HEADERS 1
#endif

// Resolved from libgomp when libtorch uses OpenMP (both Debian's and PyTorch's builds do);
// null otherwise.
extern "C" void omp_set_num_threads(int) __attribute__((weak));

using bt::device_of;
using bt::dims;
using bt::require;
using bt::scalar_for;
using bt::scalar_type;
using bt::shape_of;
using bt::wrap;

namespace {

at::TensorOptions options(int dtype, int device_type, int device_index) {
  return at::TensorOptions().dtype(scalar_type(dtype)).device(device_of(device_type, device_index));
}

at::Tensor unary(const at::Tensor &a, int op) {
  switch (op) {
    case BT_UNARY_ABS: return at::abs(a);
    case BT_UNARY_NEG: return at::neg(a);
    case BT_UNARY_FLOOR: return at::floor(a);
    case BT_UNARY_CEIL: return at::ceil(a);
    case BT_UNARY_ROUND: return at::round(a);
    case BT_UNARY_EXP: return at::exp(a);
    case BT_UNARY_LOG: return at::log(a);
    case BT_UNARY_SQRT: return at::sqrt(a);
    case BT_UNARY_RECIPROCAL: return at::reciprocal(a);
    case BT_UNARY_LOGICAL_NOT: return at::logical_not(a);
    case BT_UNARY_SIN: return at::sin(a);
    case BT_UNARY_COS: return at::cos(a);
    case BT_UNARY_SIGN: return at::sign(a);
  }
  throw std::invalid_argument("unknown unary operation " + std::to_string(op));
}

void unary_(at::Tensor &a, int op) {
  switch (op) {
    case BT_UNARY_ABS: a.abs_(); return;
    case BT_UNARY_NEG: a.neg_(); return;
    case BT_UNARY_FLOOR: a.floor_(); return;
    case BT_UNARY_CEIL: a.ceil_(); return;
    case BT_UNARY_ROUND: a.round_(); return;
    case BT_UNARY_EXP: a.exp_(); return;
    case BT_UNARY_LOG: a.log_(); return;
    case BT_UNARY_SQRT: a.sqrt_(); return;
    case BT_UNARY_RECIPROCAL: a.reciprocal_(); return;
    case BT_UNARY_LOGICAL_NOT: a.logical_not_(); return;
    case BT_UNARY_SIN: a.sin_(); return;
    case BT_UNARY_COS: a.cos_(); return;
    case BT_UNARY_SIGN: a.sign_(); return;
  }
  throw std::invalid_argument("unknown unary operation " + std::to_string(op));
}

template <typename B>
at::Tensor binary(const at::Tensor &a, const B &b, int op) {
  switch (op) {
    case BT_BINARY_ADD: return at::add(a, b);
    case BT_BINARY_SUB: return at::sub(a, b);
    case BT_BINARY_MUL: return at::mul(a, b);
    case BT_BINARY_DIV: return at::div(a, b);
    case BT_BINARY_EQ: return at::eq(a, b);
    case BT_BINARY_NE: return at::ne(a, b);
    case BT_BINARY_LT: return at::lt(a, b);
    case BT_BINARY_LE: return at::le(a, b);
    case BT_BINARY_GT: return at::gt(a, b);
    case BT_BINARY_GE: return at::ge(a, b);
    case BT_BINARY_REMAINDER: return at::remainder(a, b);
    case BT_BINARY_POW: return at::pow(a, b);
  }
  throw std::invalid_argument("unknown binary operation " + std::to_string(op));
}

at::Tensor binary_tensor(const at::Tensor &a, const at::Tensor &b, int op) {
  switch (op) {
    case BT_BINARY_MINIMUM: return at::minimum(a, b);
    case BT_BINARY_MAXIMUM: return at::maximum(a, b);
    case BT_BINARY_LOGICAL_AND: return at::logical_and(a, b);
    case BT_BINARY_LOGICAL_OR: return at::logical_or(a, b);
    case BT_BINARY_RSUB: return at::sub(b, a);
    case BT_BINARY_RDIV: return at::div(b, a);
  }
  return binary(a, b, op);
}

at::Tensor binary_scalar(const at::Tensor &a, double s, int op) {
  at::Scalar v = scalar_for(a, s);
  switch (op) {
    case BT_BINARY_MINIMUM: return at::clamp_max(a, v);
    case BT_BINARY_MAXIMUM: return at::clamp_min(a, v);
    case BT_BINARY_LOGICAL_AND: return at::logical_and(a, at::scalar_tensor(v, a.options()));
    case BT_BINARY_LOGICAL_OR: return at::logical_or(a, at::scalar_tensor(v, a.options()));
    case BT_BINARY_RSUB: return at::rsub(a, v);
    case BT_BINARY_RDIV: return at::reciprocal(a).mul_(v);
  }
  return binary(a, v, op);
}

template <typename B>
void binary_inplace(at::Tensor &a, const B &b, int op) {
  switch (op) {
    case BT_BINARY_ADD: a.add_(b); return;
    case BT_BINARY_SUB: a.sub_(b); return;
    case BT_BINARY_MUL: a.mul_(b); return;
    case BT_BINARY_DIV: a.div_(b); return;
    case BT_BINARY_REMAINDER: a.remainder_(b); return;
    case BT_BINARY_POW: a.pow_(b); return;
  }
  // Comparisons and the rest write through a temporary (their dtype may differ from a's).
  throw std::invalid_argument("binary operation " + std::to_string(op) + " has no in-place form");
}

c10::optional<at::Scalar> bound(int has, double v) {
  if (!has) return c10::nullopt;
  return at::Scalar(v);
}

std::vector<int64_t> dim_list(const int64_t *d, size_t n) { return std::vector<int64_t>(d, d + n); }

}  // namespace

extern "C" {

bt_error bt_generator_get_state(bt_generator g, bt_tensor *out) {
  PROTECT({
    std::lock_guard<std::mutex> lock(g->g.mutex());
    *out = wrap(g->g.get_state());
  })
}

bt_error bt_generator_set_state(bt_generator g, bt_tensor state) {
  PROTECT({
    const at::Tensor &s = state->t;
    require(s.scalar_type() == at::kByte && s.dim() == 1 && s.device().is_cpu(),
            "a generator state must be a 1-d uint8 CPU tensor, got " + shape_of(s) + " " +
                c10::toString(s.scalar_type()));
    std::lock_guard<std::mutex> lock(g->g.mutex());
    g->g.set_state(s.contiguous());
  })
}

bt_error bt_set_thread_local_threads(int n) {
  PROTECT({
    require(n > 0, "threads must be positive");
    // libtorch sets this thread's OpenMP threads from its global setting on the thread's first
    // operation; do that first so that it does not undo the setting below later.
    at::get_num_threads();
    if (omp_set_num_threads) omp_set_num_threads(n);
  })
}

bt_error bt_cuda_sync_debug_mode(int mode, int *previous) {
  PROTECT({
    require(mode >= 0 && mode <= 2, "sync debug mode must be 0 (off), 1 (warn) or 2 (error)");
#ifdef BYOL_CUDA_HEADERS
    auto &state = c10::cuda::warning_state();
    *previous = static_cast<int>(state.get_sync_debug_mode());
    state.set_sync_debug_mode(static_cast<c10::cuda::SyncDebugMode>(mode));
#else
    throw std::runtime_error("this libtorch shim was built without CUDA headers: no CUDA sync check");
#endif
  })
}

bt_error bt_tensor_data_ptr(bt_tensor t, void **data, int *contiguous) {
  PROTECT({
    *data = t->t.data_ptr();
    *contiguous = t->t.is_contiguous() ? 1 : 0;
  })
}

bt_error bt_rand(const int64_t *shape, size_t ndim, int dtype, int device_type, int device_index,
                 bt_generator g, bt_tensor *out) {
  PROTECT({
    auto t = at::empty(dims(shape, ndim), options(dtype, device_type, device_index));
    t.uniform_(0.0, 1.0, bt::optional(g));
    *out = wrap(t);
  })
}

bt_error bt_arange(int64_t n, int dtype, int device_type, int device_index, bt_tensor *out) {
  OUT(at::arange(n, options(dtype, device_type, device_index)))
}

bt_error bt_empty(const int64_t *shape, size_t ndim, int dtype, int device_type, int device_index,
                  bt_tensor *out) {
  OUT(at::empty(dims(shape, ndim), options(dtype, device_type, device_index)))
}

bt_error bt_to_dtype(bt_tensor t, int dtype, bt_tensor *out) {
  OUT(t->t.to(scalar_type(dtype), /*non_blocking=*/false, /*copy=*/true))
}

bt_error bt_unary(bt_tensor a, int op, bt_tensor *out) { OUT(unary(a->t, op)) }
bt_error bt_unary_(bt_tensor a, int op) { PROTECT(unary_(a->t, op)) }

bt_error bt_binary(bt_tensor a, bt_tensor b, int op, bt_tensor *out) {
  OUT(binary_tensor(a->t, b->t, op))
}
bt_error bt_binary_(bt_tensor a, bt_tensor b, int op) {
  PROTECT({
    switch (op) {
      case BT_BINARY_MINIMUM: a->t.copy_(at::minimum(a->t, b->t)); break;
      case BT_BINARY_MAXIMUM: a->t.copy_(at::maximum(a->t, b->t)); break;
      default: binary_inplace(a->t, b->t, op);
    }
  })
}

bt_error bt_binary_scalar(bt_tensor a, double s, int op, bt_tensor *out) {
  OUT(binary_scalar(a->t, s, op))
}
bt_error bt_binary_scalar_(bt_tensor a, double s, int op) {
  PROTECT({
    switch (op) {
      case BT_BINARY_MINIMUM: a->t.clamp_max_(s); break;
      case BT_BINARY_MAXIMUM: a->t.clamp_min_(s); break;
      default: binary_inplace(a->t, scalar_for(a->t, s), op);
    }
  })
}

bt_error bt_clamp(bt_tensor a, int has_lo, double lo, int has_hi, double hi, bt_tensor *out) {
  OUT(at::clamp(a->t, bound(has_lo, lo), bound(has_hi, hi)))
}
bt_error bt_clamp_(bt_tensor a, int has_lo, double lo, int has_hi, double hi) {
  PROTECT(a->t.clamp_(bound(has_lo, lo), bound(has_hi, hi)))
}

bt_error bt_addcmul(bt_tensor self, bt_tensor t1, bt_tensor t2, double value, bt_tensor *out) {
  OUT(at::addcmul(self->t, t1->t, t2->t, value))
}
bt_error bt_addcmul_(bt_tensor self, bt_tensor t1, bt_tensor t2, double value) {
  PROTECT(self->t.addcmul_(t1->t, t2->t, value))
}
bt_error bt_addcmul_into(bt_tensor dst, bt_tensor self, bt_tensor t1, bt_tensor t2, double value) {
  PROTECT({
    // A multiplication then an addition: libtorch 1.13's CPU addcmul is several times slower
    // when its operands broadcast (a per-channel scale and shift).
    at::Tensor &out = dst->t;
    if (out.scalar_type() == at::promoteTypes(self->t.scalar_type(), t1->t.scalar_type())) {
      at::mul_out(out, t1->t, t2->t);
      if (value != 1.0) out.mul_(value);
      out.add_(self->t);
    } else {
      // another output type: compute in the operands' type, round once
      auto r = at::mul(t1->t, t2->t);
      if (value != 1.0) r.mul_(value);
      out.copy_(r.add_(self->t));
    }
  })
}

bt_error bt_reduce(bt_tensor a, int op, const int64_t *d, size_t nd, int keepdim, bt_tensor *out) {
  PROTECT({
    const at::Tensor &t = a->t;
    auto list = dim_list(d, nd);
    // No dimensions listed: all of them, as a.sum() with no arguments reduces.
    for (int64_t i = 0; nd == 0 && i < t.dim(); i++) list.push_back(i);
    bool keep = keepdim != 0;
    at::Tensor r;
    switch (op) {
      case BT_REDUCE_SUM: r = t.sum(list, keep); break;
      case BT_REDUCE_MEAN: r = t.mean(list, keep); break;
      case BT_REDUCE_AMAX: r = at::amax(t, list, keep); break;
      case BT_REDUCE_AMIN: r = at::amin(t, list, keep); break;
      case BT_REDUCE_ANY:
      case BT_REDUCE_ALL: {
        // any/all over one dimension at a time (both libtorch versions have that form).
        std::sort(list.begin(), list.end(), std::greater<int64_t>());
        r = t;
        for (auto dim : list) r = op == BT_REDUCE_ANY ? r.any(dim, keep) : r.all(dim, keep);
        break;
      }
      default: throw std::invalid_argument("unknown reduction " + std::to_string(op));
    }
    *out = wrap(r);
  })
}

bt_error bt_argmax(bt_tensor a, int64_t dim, int keepdim, bt_tensor *out) {
  OUT(at::argmax(a->t, dim, keepdim != 0))
}

bt_error bt_argsort(bt_tensor a, int64_t dim, int descending, bt_tensor *out) {
  OUT(at::argsort(a->t, dim, descending != 0))
}

bt_error bt_permute(bt_tensor a, const int64_t *d, size_t nd, bt_tensor *out) {
  OUT(a->t.permute(dims(d, nd)))
}
bt_error bt_transpose(bt_tensor a, int64_t dim0, int64_t dim1, bt_tensor *out) {
  OUT(a->t.transpose(dim0, dim1))
}
bt_error bt_expand(bt_tensor a, const int64_t *shape, size_t ndim, bt_tensor *out) {
  OUT(a->t.expand(dims(shape, ndim)))
}
bt_error bt_unsqueeze(bt_tensor a, int64_t dim, bt_tensor *out) { OUT(a->t.unsqueeze(dim)) }
bt_error bt_flip(bt_tensor a, const int64_t *d, size_t nd, bt_tensor *out) {
  OUT(at::flip(a->t, dims(d, nd)))
}
bt_error bt_rot90(bt_tensor a, int64_t k, int64_t dim0, int64_t dim1, bt_tensor *out) {
  OUT(at::rot90(a->t, k, {dim0, dim1}))
}
bt_error bt_gather(bt_tensor a, int64_t dim, bt_tensor index, bt_tensor *out) {
  OUT(at::gather(a->t, dim, index->t))
}

bt_error bt_index_copy_(bt_tensor a, int64_t dim, bt_tensor index, bt_tensor source) {
  PROTECT(a->t.index_copy_(dim, index->t, source->t))
}

bt_error bt_bmm(bt_tensor a, bt_tensor b, bt_tensor *out) { OUT(at::bmm(a->t, b->t)) }
bt_error bt_matmul(bt_tensor a, bt_tensor b, bt_tensor *out) { OUT(at::matmul(a->t, b->t)) }

bt_error bt_conv2d(bt_tensor input, bt_tensor weight, bt_tensor bias, int64_t stride_h,
                   int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t groups, bt_tensor *out) {
  OUT(at::conv2d(input->t, weight->t, bt::optional(bias), {stride_h, stride_w}, {pad_h, pad_w},
                 {1, 1}, groups))
}

bt_error bt_pad2d(bt_tensor a, int64_t left, int64_t right, int64_t top, int64_t bottom, int mode,
                  double value, bt_tensor *out) {
  PROTECT({
    const at::Tensor &t = a->t;
    require(t.dim() == 4, "pad2d expects a 4-d tensor, got " + shape_of(t));
    at::Tensor r;
    switch (mode) {
      case BT_PAD_CONSTANT: r = at::constant_pad_nd(t, {left, right, top, bottom}, value); break;
      case BT_PAD_REPLICATE: r = at::replication_pad2d(t, {left, right, top, bottom}); break;
      case BT_PAD_REFLECT: r = at::reflection_pad2d(t, {left, right, top, bottom}); break;
      default: throw std::invalid_argument("unknown padding mode " + std::to_string(mode));
    }
    *out = wrap(r);
  })
}

bt_error bt_affine_grid(bt_tensor theta, int64_t n, int64_t c, int64_t h, int64_t w,
                        int align_corners, bt_tensor *out) {
  OUT(at::affine_grid_generator(theta->t, {n, c, h, w}, align_corners != 0))
}

bt_error bt_grid_sample(bt_tensor input, bt_tensor grid, int mode, int padding_mode,
                        int align_corners, bt_tensor *out) {
  PROTECT({
    require(mode == BT_SAMPLE_BILINEAR || mode == BT_SAMPLE_NEAREST,
            "unknown grid_sample mode " + std::to_string(mode));
    require(padding_mode >= BT_SAMPLE_PAD_ZEROS && padding_mode <= BT_SAMPLE_PAD_REFLECTION,
            "unknown grid_sample padding mode " + std::to_string(padding_mode));
    // libtorch's codes: interpolation 0 bilinear, 1 nearest; padding 0 zeros, 1 border, 2 reflection.
    *out = wrap(at::grid_sampler(input->t, grid->t, mode, padding_mode, align_corners != 0));
  })
}

}  // extern "C"
