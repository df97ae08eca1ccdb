/* A flat C ABI over the libtorch operations byol uses.
 *
 * Every function returns NULL on success or a heap-allocated error message (free it with
 * bt_error_free). C++ exceptions never cross this boundary. Tensors are opaque owning handles:
 * each bt_tensor returned through an out-pointer must be released with bt_tensor_free.
 * The Rust side (crates/torch-sys/src/lib.rs) declares the same functions by hand; keep them in step.
 */
#ifndef BYOL_TORCH_H
#define BYOL_TORCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bt_tensor_s *bt_tensor;
typedef struct bt_generator_s *bt_generator;
typedef char *bt_error;

/* dtype codes (ours, stable across libtorch versions) */
enum { BT_U8 = 0, BT_I64 = 1, BT_F32 = 2, BT_BF16 = 3, BT_BOOL = 4, BT_F64 = 5, BT_F16 = 6 };
/* device types */
enum { BT_CPU = 0, BT_CUDA = 1 };

void bt_error_free(bt_error err);

/* runtime */
bt_error bt_init(int num_threads);
bt_error bt_init_thread(void);
bt_error bt_version(char *buf, size_t cap);
bt_error bt_get_num_threads(int *out);
bt_error bt_set_num_threads(int n);
bt_error bt_cuda_device_count(int *out);
bt_error bt_cuda_synchronize(int index);
bt_error bt_grad_mode_set(int enabled, int *previous);
bt_error bt_grad_mode_enabled(int *out);

/* generators */
bt_error bt_generator_new(uint64_t seed, int device_type, int device_index, bt_generator *out);
void bt_generator_free(bt_generator g);

/* tensor lifetime and metadata */
void bt_tensor_free(bt_tensor t);
/* Tensor handles not yet freed, process-wide. */
int64_t bt_live_tensors(void);
bt_error bt_tensor_alias(bt_tensor t, bt_tensor *out);
bt_error bt_tensor_from_data(const void *data, size_t nbytes, int dtype, const int64_t *shape,
                             size_t ndim, int device_type, int device_index, bt_tensor *out);
bt_error bt_tensor_to_host(bt_tensor t, void *dst, size_t nbytes);
bt_error bt_tensor_ndim(bt_tensor t, size_t *out);
bt_error bt_tensor_shape(bt_tensor t, int64_t *dims, size_t cap);
bt_error bt_tensor_dtype(bt_tensor t, int *out);
bt_error bt_tensor_device(bt_tensor t, int *device_type, int *device_index);
bt_error bt_tensor_item_f64(bt_tensor t, double *out);

/* creation and in-place initialisation */
bt_error bt_zeros(const int64_t *shape, size_t ndim, int dtype, int device_type, int device_index,
                  bt_tensor *out);
bt_error bt_full(const int64_t *shape, size_t ndim, double value, int dtype, int device_type,
                 int device_index, bt_tensor *out);
bt_error bt_uniform_(bt_tensor t, double low, double high, bt_generator g);
bt_error bt_normal_(bt_tensor t, double mean, double std, bt_generator g);
bt_error bt_fill_(bt_tensor t, double value);
bt_error bt_copy_(bt_tensor dst, bt_tensor src);
bt_error bt_to(bt_tensor t, int dtype, int device_type, int device_index, bt_tensor *out);
bt_error bt_clone(bt_tensor t, bt_tensor *out);
bt_error bt_detach(bt_tensor t, bt_tensor *out);
bt_error bt_contiguous(bt_tensor t, bt_tensor *out);
bt_error bt_reshape(bt_tensor t, const int64_t *shape, size_t ndim, bt_tensor *out);
bt_error bt_flatten(bt_tensor t, int64_t start_dim, int64_t end_dim, bt_tensor *out);
bt_error bt_narrow(bt_tensor t, int64_t dim, int64_t start, int64_t length, bt_tensor *out);
bt_error bt_index_select(bt_tensor t, int64_t dim, bt_tensor index, bt_tensor *out);
bt_error bt_cat(const bt_tensor *ts, size_t n, int64_t dim, bt_tensor *out);

/* autograd */
bt_error bt_set_requires_grad(bt_tensor t, int requires_grad);
bt_error bt_requires_grad(bt_tensor t, int *out);
bt_error bt_grad(bt_tensor t, bt_tensor *out); /* *out = NULL when no gradient is defined */
bt_error bt_zero_grad(bt_tensor t);            /* drops the gradient, as set_to_none=True */
bt_error bt_backward(bt_tensor t);

/* arithmetic beyond the opcodes of byol_vision.h (bt_unary, bt_binary, bt_reduce) */
/* a + alpha * b in one kernel */
bt_error bt_add_scaled(bt_tensor a, bt_tensor b, double alpha, bt_tensor *out);
bt_error bt_add_scaled_(bt_tensor a, bt_tensor b, double alpha);
bt_error bt_norm(bt_tensor a, bt_tensor *out);
bt_error bt_where(bt_tensor cond, bt_tensor a, bt_tensor b, bt_tensor *out);

/* neural-network operations */
/* bt_conv2d is in byol_vision.h */
bt_error bt_batch_norm(bt_tensor input, bt_tensor weight, bt_tensor bias, bt_tensor running_mean,
                       bt_tensor running_var, int training, double momentum, double eps,
                       bt_tensor *out);
bt_error bt_max_pool2d(bt_tensor input, int64_t kernel, int64_t stride, int64_t padding,
                       bt_tensor *out);
bt_error bt_adaptive_avg_pool2d(bt_tensor input, int64_t out_h, int64_t out_w, bt_tensor *out);
bt_error bt_relu(bt_tensor input, bt_tensor *out);
bt_error bt_relu_(bt_tensor t);
bt_error bt_linear(bt_tensor input, bt_tensor weight, bt_tensor bias /* nullable */, bt_tensor *out);
bt_error bt_cosine_similarity(bt_tensor a, bt_tensor b, int64_t dim, double eps, bt_tensor *out);

/* multi-tensor (foreach) updates over lists of equal length */
bt_error bt_foreach_mul_scalar_(const bt_tensor *ts, size_t n, double s);
bt_error bt_foreach_add_list_(const bt_tensor *ts, const bt_tensor *others, size_t n, double alpha);
bt_error bt_foreach_norm(const bt_tensor *ts, size_t n, bt_tensor *outs);

#ifdef __cplusplus
}
#endif

#endif
