// Definitions shared by every translation unit of the shim (byol_torch.cpp, and the other
// byol_*.cpp files that add operations): the handle layouts, error plumbing and conversions.
// Not part of the C ABI.
#pragma once

#include "byol_torch.h"

#include <ATen/ATen.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

struct bt_tensor_s {
  at::Tensor t;
};
struct bt_generator_s {
  at::Generator g;
};

namespace bt {

inline char *dup_message(const char *msg) {
  size_t n = std::strlen(msg);
  char *out = static_cast<char *>(std::malloc(n + 1));
  if (out) std::memcpy(out, msg, n + 1);
  return out;
}

// Handles alive now (wrap counts up, bt_tensor_free down): runtimeInfo().liveTensors, which the
// memory benchmark watches for leaks.
extern std::atomic<int64_t> live_tensors;

inline bt_tensor wrap(at::Tensor t) {
  live_tensors.fetch_add(1, std::memory_order_relaxed);
  return new bt_tensor_s{std::move(t)};
}

inline at::ScalarType scalar_type(int dtype) {
  switch (dtype) {
    case BT_U8: return at::kByte;
    case BT_I64: return at::kLong;
    case BT_F32: return at::kFloat;
    case BT_BF16: return at::kBFloat16;
    case BT_BOOL: return at::kBool;
    case BT_F64: return at::kDouble;
    case BT_F16: return at::kHalf;
  }
  throw std::invalid_argument("unknown dtype code " + std::to_string(dtype));
}

inline int dtype_code(at::ScalarType s) {
  switch (s) {
    case at::kByte: return BT_U8;
    case at::kLong: return BT_I64;
    case at::kFloat: return BT_F32;
    case at::kBFloat16: return BT_BF16;
    case at::kBool: return BT_BOOL;
    case at::kDouble: return BT_F64;
    case at::kHalf: return BT_F16;
    default: break;
  }
  throw std::invalid_argument(std::string("unsupported dtype ") + c10::toString(s));
}

inline at::Device device_of(int device_type, int device_index) {
  if (device_type == BT_CPU) return at::Device(at::kCPU);
  if (device_type == BT_CUDA) {
    if (!at::globalContext().hasCUDA())
      throw std::runtime_error("CUDA is not available in this libtorch build or on this machine");
    return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device_index));
  }
  throw std::invalid_argument("unknown device type " + std::to_string(device_type));
}

inline at::IntArrayRef dims(const int64_t *shape, size_t ndim) { return at::IntArrayRef(shape, ndim); }

inline std::vector<at::Tensor> list(const bt_tensor *ts, size_t n) {
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(ts[i]->t);
  return out;
}

inline c10::optional<at::Tensor> optional(bt_tensor t) {
  if (t == nullptr) return c10::nullopt;
  return t->t;
}

inline c10::optional<at::Generator> optional(bt_generator g) {
  if (g == nullptr) return c10::nullopt;
  return g->g;
}

// An integral scalar stays integral so that integer tensors keep their dtype (idx + 1, a step
// counter + 1).
inline at::Scalar scalar_for(const at::Tensor &t, double s) {
  if (at::isIntegralType(t.scalar_type(), true) && s == static_cast<double>(static_cast<int64_t>(s)))
    return at::Scalar(static_cast<int64_t>(s));
  return at::Scalar(s);
}

inline void require(bool ok, const std::string &what) {
  if (!ok) throw std::invalid_argument(what);
}

inline std::string shape_of(const at::Tensor &t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

}  // namespace bt

// Runs a body and turns any exception into an error string for the caller. libtorch messages
// lose their C++ backtrace, which means nothing to a JavaScript user.
#define PROTECT(...)                                           \
  try {                                                        \
    __VA_ARGS__;                                               \
    return nullptr;                                            \
  } catch (const c10::Error &e) {                              \
    return bt::dup_message(e.what_without_backtrace());        \
  } catch (const std::exception &e) {                          \
    return bt::dup_message(e.what());                          \
  } catch (...) {                                              \
    return bt::dup_message("unknown C++ exception in libtorch"); \
  }

// For functions whose only job is to produce one tensor into `out`.
#define OUT(...) PROTECT(*out = bt::wrap(__VA_ARGS__))
