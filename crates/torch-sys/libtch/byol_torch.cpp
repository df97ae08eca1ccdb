// Implementation of the C ABI in byol_torch.h. It compiles unchanged against libtorch 1.13
// (Debian, CPU) and 2.x (PyTorch wheels, CUDA); version differences are confined to #if blocks.
#include "internal.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/version.h>

#include <malloc.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

std::atomic<int64_t> bt::live_tensors{0};

using namespace bt;

extern "C" {

void bt_error_free(bt_error err) { std::free(err); }

bt_error bt_init(int num_threads) {
  PROTECT({
    // glibc's default mmap threshold makes every large activation an mmap/munmap pair;
    // keeping freed memory in the heap makes small-batch CPU training 1.5-2x faster.
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 256 << 20);
    if (num_threads > 0) at::set_num_threads(num_threads);
  })
}

bt_error bt_init_thread(void) { PROTECT(at::init_num_threads()) }

bt_error bt_version(char *buf, size_t cap) {
  PROTECT({
    std::snprintf(buf, cap, "%d.%d.%d", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR,
                  TORCH_VERSION_PATCH);
  })
}

bt_error bt_get_num_threads(int *out) { PROTECT(*out = at::get_num_threads()) }
bt_error bt_set_num_threads(int n) { PROTECT(at::set_num_threads(n)) }

bt_error bt_cuda_device_count(int *out) {
  PROTECT(*out = at::globalContext().hasCUDA()
                     ? static_cast<int>(at::detail::getCUDAHooks().getNumGPUs())
                     : 0)
}

bt_error bt_cuda_synchronize(int index) {
  PROTECT(at::detail::getCUDAHooks().deviceSynchronize(index))
}

bt_error bt_grad_mode_enabled(int *out) { PROTECT(*out = c10::GradMode::is_enabled() ? 1 : 0) }

bt_error bt_grad_mode_set(int enabled, int *previous) {
  PROTECT({
    *previous = c10::GradMode::is_enabled() ? 1 : 0;
    c10::GradMode::set_enabled(enabled != 0);
  })
}

bt_error bt_generator_new(uint64_t seed, int device_type, int device_index, bt_generator *out) {
  PROTECT({
    at::Generator g;
    if (device_type == BT_CUDA) {
      device_of(device_type, device_index);
#if TORCH_VERSION_MAJOR >= 2
      g = at::detail::getCUDAHooks().getDefaultGenerator(device_index).clone();
#else
      g = at::detail::getCUDAHooks().getDefaultCUDAGenerator(device_index).clone();
#endif
    } else {
      g = at::make_generator<at::CPUGeneratorImpl>(seed);
    }
    g.set_current_seed(seed);
    *out = new bt_generator_s{g};
  })
}

void bt_generator_free(bt_generator g) { delete g; }

void bt_tensor_free(bt_tensor t) {
  if (t) bt::live_tensors.fetch_sub(1, std::memory_order_relaxed);
  delete t;
}

int64_t bt_live_tensors(void) { return bt::live_tensors.load(std::memory_order_relaxed); }

bt_error bt_tensor_alias(bt_tensor t, bt_tensor *out) { OUT(t->t) }

bt_error bt_tensor_from_data(const void *data, size_t nbytes, int dtype, const int64_t *shape,
                             size_t ndim, int device_type, int device_index, bt_tensor *out) {
  PROTECT({
    auto device = device_of(device_type, device_index);
    // For a GPU the staging copy is pinned and the upload asynchronous: it queues behind the
    // work already on the stream instead of waiting for it (the pinned block is only reused once
    // the copy is done).
    bool pinned = device.is_cuda();
    auto host = at::empty(dims(shape, ndim), at::TensorOptions().dtype(scalar_type(dtype)).pinned_memory(pinned));
    if (host.nbytes() != nbytes)
      throw std::invalid_argument("data holds " + std::to_string(nbytes) + " bytes but shape needs " +
                                  std::to_string(host.nbytes()));
    if (nbytes) std::memcpy(host.data_ptr(), data, nbytes);
    *out = wrap(host.to(device, /*non_blocking=*/pinned));
  })
}

bt_error bt_tensor_to_host(bt_tensor t, void *dst, size_t nbytes) {
  PROTECT({
    auto host = t->t.detach().to(at::kCPU).contiguous();
    if (host.nbytes() != nbytes)
      throw std::invalid_argument("tensor holds " + std::to_string(host.nbytes()) +
                                  " bytes, destination " + std::to_string(nbytes));
    if (nbytes) std::memcpy(dst, host.data_ptr(), nbytes);
  })
}

bt_error bt_tensor_ndim(bt_tensor t, size_t *out) { PROTECT(*out = t->t.dim()) }

bt_error bt_tensor_shape(bt_tensor t, int64_t *out, size_t cap) {
  PROTECT({
    auto sizes = t->t.sizes();
    if (sizes.size() > cap) throw std::invalid_argument("shape buffer too small");
    for (size_t i = 0; i < sizes.size(); ++i) out[i] = sizes[i];
  })
}

bt_error bt_tensor_dtype(bt_tensor t, int *out) { PROTECT(*out = dtype_code(t->t.scalar_type())) }

bt_error bt_tensor_device(bt_tensor t, int *device_type, int *device_index) {
  PROTECT({
    auto d = t->t.device();
    *device_type = d.is_cuda() ? BT_CUDA : BT_CPU;
    *device_index = d.has_index() ? d.index() : 0;
  })
}

bt_error bt_tensor_item_f64(bt_tensor t, double *out) { PROTECT(*out = t->t.item<double>()) }

bt_error bt_zeros(const int64_t *shape, size_t ndim, int dtype, int device_type, int device_index,
                  bt_tensor *out) {
  OUT(at::zeros(dims(shape, ndim), at::TensorOptions()
                                       .dtype(scalar_type(dtype))
                                       .device(device_of(device_type, device_index))))
}

bt_error bt_full(const int64_t *shape, size_t ndim, double value, int dtype, int device_type,
                 int device_index, bt_tensor *out) {
  OUT(at::full(dims(shape, ndim), value,
               at::TensorOptions()
                   .dtype(scalar_type(dtype))
                   .device(device_of(device_type, device_index))))
}

bt_error bt_uniform_(bt_tensor t, double low, double high, bt_generator g) {
  PROTECT(t->t.uniform_(low, high, optional(g)))
}

bt_error bt_normal_(bt_tensor t, double mean, double std, bt_generator g) {
  PROTECT(t->t.normal_(mean, std, optional(g)))
}

bt_error bt_fill_(bt_tensor t, double value) { PROTECT(t->t.fill_(value)) }
bt_error bt_copy_(bt_tensor dst, bt_tensor src) { PROTECT(dst->t.copy_(src->t)) }

bt_error bt_to(bt_tensor t, int dtype, int device_type, int device_index, bt_tensor *out) {
  OUT(t->t.to(device_of(device_type, device_index), scalar_type(dtype)))
}

bt_error bt_clone(bt_tensor t, bt_tensor *out) { OUT(t->t.clone()) }
bt_error bt_detach(bt_tensor t, bt_tensor *out) { OUT(t->t.detach()) }
bt_error bt_contiguous(bt_tensor t, bt_tensor *out) { OUT(t->t.contiguous()) }

bt_error bt_reshape(bt_tensor t, const int64_t *shape, size_t ndim, bt_tensor *out) {
  OUT(t->t.reshape(dims(shape, ndim)))
}

bt_error bt_flatten(bt_tensor t, int64_t start_dim, int64_t end_dim, bt_tensor *out) {
  OUT(t->t.flatten(start_dim, end_dim))
}

bt_error bt_narrow(bt_tensor t, int64_t dim, int64_t start, int64_t length, bt_tensor *out) {
  OUT(t->t.narrow(dim, start, length))
}

bt_error bt_index_select(bt_tensor t, int64_t dim, bt_tensor index, bt_tensor *out) {
  OUT(t->t.index_select(dim, index->t))
}

bt_error bt_cat(const bt_tensor *ts, size_t n, int64_t dim, bt_tensor *out) {
  OUT(at::cat(list(ts, n), dim))
}

bt_error bt_set_requires_grad(bt_tensor t, int requires_grad) {
  PROTECT(t->t.set_requires_grad(requires_grad != 0))
}

bt_error bt_requires_grad(bt_tensor t, int *out) { PROTECT(*out = t->t.requires_grad() ? 1 : 0) }

bt_error bt_grad(bt_tensor t, bt_tensor *out) {
  PROTECT({
    const at::Tensor &g = t->t.grad();
    *out = g.defined() ? wrap(g) : nullptr;
  })
}

bt_error bt_zero_grad(bt_tensor t) { PROTECT(t->t.mutable_grad().reset()) }
bt_error bt_backward(bt_tensor t) { PROTECT(t->t.backward()) }

bt_error bt_add_scaled(bt_tensor a, bt_tensor b, double alpha, bt_tensor *out) {
  OUT(at::add(a->t, b->t, alpha))
}
bt_error bt_add_scaled_(bt_tensor a, bt_tensor b, double alpha) { PROTECT(a->t.add_(b->t, alpha)) }
bt_error bt_norm(bt_tensor a, bt_tensor *out) { OUT(a->t.norm()) }
bt_error bt_where(bt_tensor cond, bt_tensor a, bt_tensor b, bt_tensor *out) {
  OUT(at::where(cond->t, a->t, b->t))
}

bt_error bt_batch_norm(bt_tensor input, bt_tensor weight, bt_tensor bias, bt_tensor running_mean,
                       bt_tensor running_var, int training, double momentum, double eps,
                       bt_tensor *out) {
  OUT(at::batch_norm(input->t, optional(weight), optional(bias), optional(running_mean),
                     optional(running_var), training != 0, momentum, eps,
                     at::globalContext().userEnabledCuDNN()))
}

bt_error bt_max_pool2d(bt_tensor input, int64_t kernel, int64_t stride, int64_t padding,
                       bt_tensor *out) {
  OUT(at::max_pool2d(input->t, {kernel, kernel}, {stride, stride}, {padding, padding}))
}

bt_error bt_adaptive_avg_pool2d(bt_tensor input, int64_t out_h, int64_t out_w, bt_tensor *out) {
  OUT(at::adaptive_avg_pool2d(input->t, {out_h, out_w}))
}

bt_error bt_relu(bt_tensor input, bt_tensor *out) { OUT(at::relu(input->t)) }
bt_error bt_relu_(bt_tensor t) { PROTECT(at::relu_(t->t)) }

bt_error bt_linear(bt_tensor input, bt_tensor weight, bt_tensor bias, bt_tensor *out) {
  OUT(at::linear(input->t, weight->t, optional(bias)))
}

bt_error bt_cosine_similarity(bt_tensor a, bt_tensor b, int64_t dim, double eps, bt_tensor *out) {
  OUT(at::cosine_similarity(a->t, b->t, dim, eps))
}

bt_error bt_foreach_mul_scalar_(const bt_tensor *ts, size_t n, double s) {
  PROTECT(at::_foreach_mul_(list(ts, n), s))
}

bt_error bt_foreach_add_list_(const bt_tensor *ts, const bt_tensor *others, size_t n,
                              double alpha) {
  PROTECT(at::_foreach_add_(list(ts, n), list(others, n), alpha))
}

bt_error bt_foreach_norm(const bt_tensor *ts, size_t n, bt_tensor *outs) {
  PROTECT({
    auto norms = at::_foreach_norm(list(ts, n));
    for (size_t i = 0; i < n; ++i) outs[i] = wrap(norms[i]);
  })
}

}  // extern "C"
