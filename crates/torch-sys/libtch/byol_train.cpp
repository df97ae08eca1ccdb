// Mixed precision, memory formats and device-scaled multi-tensor updates (byol_train.h).
#include "byol_train.h"
#include "internal.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

// PyTorch 2.4 replaced the per-device autocast setters by ones taking the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define BT_AUTOCAST_BY_DEVICE 1
#endif
// The multi-tensor kernels that take a tensor scalar (_foreach_mul.Tensor) arrived in 2.1.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define BT_FOREACH_TENSOR_SCALAR 1
#endif

namespace {

at::DeviceType autocast_device(int device_type) {
  if (device_type == BT_CPU) return at::kCPU;
  if (device_type == BT_CUDA) return at::kCUDA;
  throw std::invalid_argument("unknown device type " + std::to_string(device_type));
}

bool autocast_enabled(at::DeviceType d) {
#ifdef BT_AUTOCAST_BY_DEVICE
  return at::autocast::is_autocast_enabled(d);
#else
  return d == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

void set_autocast(at::DeviceType d, bool enabled) {
#ifdef BT_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_enabled(d, enabled);
#else
  if (d == at::kCPU) at::autocast::set_cpu_enabled(enabled);
  else at::autocast::set_enabled(enabled);
#endif
}

void set_autocast_dtype(at::DeviceType d, at::ScalarType dtype) {
#ifdef BT_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_dtype(d, dtype);
#else
  if (d == at::kCPU) at::autocast::set_autocast_cpu_dtype(dtype);
  else at::autocast::set_autocast_gpu_dtype(dtype);
#endif
}

at::MemoryFormat memory_format(int code) {
  if (code == BT_CONTIGUOUS) return at::MemoryFormat::Contiguous;
  if (code == BT_CHANNELS_LAST) return at::MemoryFormat::ChannelsLast;
  throw std::invalid_argument("unknown memory format " + std::to_string(code));
}

at::Tensor to_host_async(const at::Tensor &t) {
  if (!t.is_cuda()) return t;
  auto host = at::empty(t.sizes(), t.options().device(at::kCPU).pinned_memory(true));
  host.copy_(t, /*non_blocking=*/true);
  return host;
}

}  // namespace

extern "C" {

using bt::list;

bt_error bt_autocast_enter(int device_type, int dtype, int *previous) {
  PROTECT({
    auto d = autocast_device(device_type);
    auto s = bt::scalar_type(dtype);
    bt::require(s == at::kBFloat16 || s == at::kHalf, "autocast computes in bf16 or fp16");
    *previous = autocast_enabled(d) ? 1 : 0;
    set_autocast(d, true);
    set_autocast_dtype(d, s);
    at::autocast::increment_nesting();
  })
}

bt_error bt_autocast_exit(int device_type, int previous) {
  PROTECT({
    auto d = autocast_device(device_type);
    // The cache holds low-precision copies of the weights; they are stale after the update.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    set_autocast(d, previous != 0);
  })
}

bt_error bt_autocast_is_enabled(int device_type, int *out) {
  PROTECT(*out = autocast_enabled(autocast_device(device_type)) ? 1 : 0)
}

bt_error bt_contiguous_as(bt_tensor t, int format, bt_tensor *out) {
  OUT(t->t.contiguous(memory_format(format)))
}

bt_error bt_tensor_set_data(bt_tensor t, bt_tensor src) {
  PROTECT({
    bt::require(t->t.sizes() == src->t.sizes(),
                "set_data: shapes differ: " + bt::shape_of(t->t) + " and " + bt::shape_of(src->t));
    t->t.set_data(src->t);
    // set_data keeps the version counter; bumping it tells copies derived from the old storage
    // (packed inference weights) that they are stale.
    t->t.unsafeGetTensorImpl()->bump_version();
  })
}

bt_error bt_foreach_ema_tensor_(const bt_tensor *ts, const bt_tensor *others, size_t n, bt_tensor m) {
  PROTECT({
    auto targets = list(ts, n);
    auto sources = list(others, n);
    at::Tensor keep = 1 - m->t;
#ifdef BT_FOREACH_TENSOR_SCALAR
    at::_foreach_mul_(targets, m->t);
    at::_foreach_add_(targets, at::_foreach_mul(sources, keep));
#else
    for (size_t i = 0; i < n; ++i) targets[i].mul_(m->t).add_(sources[i] * keep);
#endif
  })
}

bt_error bt_foreach_add_scaled_tensor_(const bt_tensor *ts, const bt_tensor *others, size_t n,
                                       bt_tensor s, double sign) {
  PROTECT({
    auto targets = list(ts, n);
    auto sources = list(others, n);
#ifdef BT_FOREACH_TENSOR_SCALAR
    at::_foreach_add_(targets, at::_foreach_mul(sources, s->t), sign);
#else
    for (size_t i = 0; i < n; ++i) targets[i].add_(sources[i] * s->t, sign);
#endif
  })
}

bt_error bt_to_host_async(bt_tensor t, bt_tensor *out) { OUT(to_host_async(t->t)) }

bt_error bt_cudnn_set_benchmark(int enabled) {
  PROTECT(at::globalContext().setBenchmarkCuDNN(enabled != 0))
}

bt_error bt_cudnn_set_deterministic(int enabled) {
  PROTECT(at::globalContext().setDeterministicCuDNN(enabled != 0))
}

}  // extern "C"
