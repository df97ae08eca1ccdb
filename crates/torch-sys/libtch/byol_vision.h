/* Generic tensor primitives for batched image augmentation (crates/byol/src/augment/), and the
 * state of random generators (checkpoints save and restore the augmentation stream).
 *
 * Same conventions as byol_torch.h: every function returns NULL on success or an error string
 * freed with bt_error_free; tensors returned through out-pointers are owning handles freed with
 * bt_tensor_free. Nothing here reads a tensor's values on the host, so a caller that composes
 * these never synchronises with a CUDA device (and can later be captured in a CUDA graph).
 * The Rust side declares these in crates/torch-sys/src/vision.rs.
 */
#ifndef BYOL_VISION_H
#define BYOL_VISION_H

#include "byol_torch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* generator state: an opaque uint8 CPU tensor (libtorch's own layout for the generator's device:
 * the Mersenne Twister state on CPU, seed and Philox offset on CUDA) */
bt_error bt_generator_get_state(bt_generator g, bt_tensor *out);
bt_error bt_generator_set_state(bt_generator g, bt_tensor state);

/* intra-op threads of the calling thread only (OpenMP's per-thread setting; libtorch's global
 * setting and other threads are left alone). Lets several threads run small operations side by
 * side, each single-threaded. A no-op when libtorch does not use OpenMP. */
bt_error bt_set_thread_local_threads(int n);

/* libtorch's CUDA synchronisation check (process-wide): 0 off, 1 warn, 2 error on any
 * operation that makes the host wait for the device (.item(), nonzero, device-to-host copies).
 * *previous receives the mode before. Fails where the shim was built without CUDA headers. */
bt_error bt_cuda_sync_debug_mode(int mode, int *previous);

/* the address of a tensor's first element and whether its elements are contiguous (row-major);
 * the memory belongs to the tensor (valid while a handle to it lives) */
bt_error bt_tensor_data_ptr(bt_tensor t, void **data, int *contiguous);

/* uniform [0, 1) of `dtype` drawn from g (NULL: libtorch's default generator) */
bt_error bt_rand(const int64_t *shape, size_t ndim, int dtype, int device_type, int device_index,
                 bt_generator g, bt_tensor *out);
/* 0, 1, ..., n - 1 */
bt_error bt_arange(int64_t n, int dtype, int device_type, int device_index, bt_tensor *out);
/* uninitialised, contiguous */
bt_error bt_empty(const int64_t *shape, size_t ndim, int dtype, int device_type, int device_index,
                  bt_tensor *out);
/* same device, another dtype (a new tensor even when the dtype is unchanged: never an alias) */
bt_error bt_to_dtype(bt_tensor t, int dtype, bt_tensor *out);

/* elementwise unary operations */
enum {
  BT_UNARY_ABS = 0,
  BT_UNARY_NEG = 1,
  BT_UNARY_FLOOR = 2,
  BT_UNARY_CEIL = 3,
  BT_UNARY_ROUND = 4, /* half to even, as torch.round and Python's round */
  BT_UNARY_EXP = 5,
  BT_UNARY_LOG = 6,
  BT_UNARY_SQRT = 7,
  BT_UNARY_RECIPROCAL = 8,
  BT_UNARY_LOGICAL_NOT = 9,
  BT_UNARY_SIN = 10,
  BT_UNARY_COS = 11,
  BT_UNARY_SIGN = 12 /* -1, 0 or 1 */
};
bt_error bt_unary(bt_tensor a, int op, bt_tensor *out);
bt_error bt_unary_(bt_tensor a, int op);

/* elementwise binary operations with broadcasting; comparisons produce bool tensors */
enum {
  BT_BINARY_ADD = 0,
  BT_BINARY_SUB = 1,
  BT_BINARY_MUL = 2,
  BT_BINARY_DIV = 3,
  BT_BINARY_MINIMUM = 4,
  BT_BINARY_MAXIMUM = 5,
  BT_BINARY_EQ = 6,
  BT_BINARY_NE = 7,
  BT_BINARY_LT = 8,
  BT_BINARY_LE = 9,
  BT_BINARY_GT = 10,
  BT_BINARY_GE = 11,
  BT_BINARY_LOGICAL_AND = 12,
  BT_BINARY_LOGICAL_OR = 13,
  BT_BINARY_REMAINDER = 14, /* Python's %: the result has the divisor's sign */
  BT_BINARY_POW = 15,
  BT_BINARY_RSUB = 16, /* b - a */
  BT_BINARY_RDIV = 17  /* b / a */
};
bt_error bt_binary(bt_tensor a, bt_tensor b, int op, bt_tensor *out);
bt_error bt_binary_(bt_tensor a, bt_tensor b, int op);
/* `a op s`; an integral s keeps an integer tensor integral */
bt_error bt_binary_scalar(bt_tensor a, double s, int op, bt_tensor *out);
bt_error bt_binary_scalar_(bt_tensor a, double s, int op);

/* clamp to [lo, hi]; has_lo/has_hi = 0 leaves that side open */
bt_error bt_clamp(bt_tensor a, int has_lo, double lo, int has_hi, double hi, bt_tensor *out);
bt_error bt_clamp_(bt_tensor a, int has_lo, double lo, int has_hi, double hi);
/* self + value * t1 * t2 (broadcasting) */
bt_error bt_addcmul(bt_tensor self, bt_tensor t1, bt_tensor t2, double value, bt_tensor *out);
bt_error bt_addcmul_(bt_tensor self, bt_tensor t1, bt_tensor t2, double value);
/* writes self + value * t1 * t2 into the existing tensor dst (converting to dst's dtype) */
bt_error bt_addcmul_into(bt_tensor dst, bt_tensor self, bt_tensor t1, bt_tensor t2, double value);

/* reductions over the listed dimensions (every dimension when ndims is 0) */
enum {
  BT_REDUCE_SUM = 0,
  BT_REDUCE_MEAN = 1,
  BT_REDUCE_AMAX = 2,
  BT_REDUCE_AMIN = 3,
  BT_REDUCE_ANY = 4,
  BT_REDUCE_ALL = 5
};
bt_error bt_reduce(bt_tensor a, int op, const int64_t *dims, size_t ndims, int keepdim,
                   bt_tensor *out);
/* index (int64) of the first maximum over one dimension */
bt_error bt_argmax(bt_tensor a, int64_t dim, int keepdim, bt_tensor *out);
/* indices (int64) that sort one dimension (ties in an unspecified order) */
bt_error bt_argsort(bt_tensor a, int64_t dim, int descending, bt_tensor *out);

/* views and copies of the layout */
bt_error bt_permute(bt_tensor a, const int64_t *dims, size_t ndims, bt_tensor *out);
bt_error bt_transpose(bt_tensor a, int64_t dim0, int64_t dim1, bt_tensor *out);
bt_error bt_expand(bt_tensor a, const int64_t *shape, size_t ndim, bt_tensor *out);
bt_error bt_unsqueeze(bt_tensor a, int64_t dim, bt_tensor *out);
bt_error bt_flip(bt_tensor a, const int64_t *dims, size_t ndims, bt_tensor *out);
/* rotate by k * 90 degrees from dim0 towards dim1 (torch.rot90) */
bt_error bt_rot90(bt_tensor a, int64_t k, int64_t dim0, int64_t dim1, bt_tensor *out);
bt_error bt_gather(bt_tensor a, int64_t dim, bt_tensor index, bt_tensor *out);
/* a[index[i]] = source[i] along dim, in place (index: int64) */
bt_error bt_index_copy_(bt_tensor a, int64_t dim, bt_tensor index, bt_tensor source);

/* matrix products: bmm [B, n, m] x [B, m, p]; matmul with numpy broadcasting */
bt_error bt_bmm(bt_tensor a, bt_tensor b, bt_tensor *out);
bt_error bt_matmul(bt_tensor a, bt_tensor b, bt_tensor *out);

/* 2-d convolution (torch.nn.functional.conv2d) */
bt_error bt_conv2d(bt_tensor input, bt_tensor weight, bt_tensor bias /* nullable */,
                   int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w, int64_t groups,
                   bt_tensor *out);

/* padding of the last two dimensions of a 4-d tensor by (left, right, top, bottom) */
enum { BT_PAD_CONSTANT = 0, BT_PAD_REPLICATE = 1, BT_PAD_REFLECT = 2 };
bt_error bt_pad2d(bt_tensor a, int64_t left, int64_t right, int64_t top, int64_t bottom, int mode,
                  double value, bt_tensor *out);

/* torch.nn.functional.affine_grid for an output of [n, c, h, w] and grid_sample */
bt_error bt_affine_grid(bt_tensor theta, int64_t n, int64_t c, int64_t h, int64_t w,
                        int align_corners, bt_tensor *out);
enum { BT_SAMPLE_BILINEAR = 0, BT_SAMPLE_NEAREST = 1 };
enum { BT_SAMPLE_PAD_ZEROS = 0, BT_SAMPLE_PAD_BORDER = 1, BT_SAMPLE_PAD_REFLECTION = 2 };
bt_error bt_grid_sample(bt_tensor input, bt_tensor grid, int mode, int padding_mode,
                        int align_corners, bt_tensor *out);

#ifdef __cplusplus
}
#endif

#endif
