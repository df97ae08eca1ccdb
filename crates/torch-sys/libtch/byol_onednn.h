/* Inference with oneDNN's own tensor layout on the CPU: convolution weights reordered once into
 * the blocked layout oneDNN's kernels read, and activations kept in it between layers. libtorch's
 * ordinary convolutions reorder every weight on every call, which at the batch sizes a service
 * forms (about 32 images of 32x32) took a fifth of the forward pass.
 *
 * Same conventions as byol_torch.h. Where libtorch was built without oneDNN, bt_onednn_available
 * reports 0 and the other functions return an error. The Rust side declares these in
 * crates/torch-sys/src/onednn.rs.
 */
#ifndef BYOL_ONEDNN_H
#define BYOL_ONEDNN_H

#include "byol_torch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when libtorch has oneDNN and this CPU can run it. */
int bt_onednn_available(void);

/* A CPU float tensor in oneDNN's layout, and back to a strided one. */
bt_error bt_to_onednn(bt_tensor t, bt_tensor *out);
bt_error bt_onednn_to_dense(bt_tensor t, bt_tensor *out);
bt_error bt_tensor_is_onednn(bt_tensor t, int *out);

/* A convolution weight [O, C, k, k] reordered for oneDNN's square-stride, square-padding,
 * ungrouped convolution. */
bt_error bt_onednn_pack_conv2d_weight(bt_tensor weight, int64_t stride, int64_t padding, bt_tensor *out);

/* The convolution with a packed weight and an optional bias (NULL: none); `input` is in
 * oneDNN's layout and so is the result. */
bt_error bt_onednn_conv2d(bt_tensor input, bt_tensor packed_weight, bt_tensor bias, int64_t stride,
                          int64_t padding, bt_tensor *out);

/* How many times the tensor's storage was written in place (autograd's version counter): what a
 * copy derived from it (a packed weight) is checked against. */
bt_error bt_tensor_version(bt_tensor t, int64_t *out);

#ifdef __cplusplus
}
#endif

#endif
