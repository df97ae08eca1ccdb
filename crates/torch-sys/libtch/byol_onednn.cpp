// Inference in oneDNN's layout (byol_onednn.h).
#include "byol_onednn.h"
#include "internal.h"

#include <ATen/Config.h>

#if AT_MKLDNN_ENABLED()

extern "C" {

int bt_onednn_available(void) { return at::hasMKLDNN() ? 1 : 0; }

bt_error bt_to_onednn(bt_tensor t, bt_tensor *out) {
  PROTECT({
    bt::require(t->t.device().is_cpu() && t->t.scalar_type() == at::kFloat,
                "oneDNN's layout takes CPU float32 tensors, got " + std::string(c10::toString(t->t.scalar_type())) +
                    " on " + t->t.device().str());
    *out = bt::wrap(t->t.to_mkldnn());
  })
}

bt_error bt_onednn_to_dense(bt_tensor t, bt_tensor *out) { OUT(t->t.is_mkldnn() ? t->t.to_dense() : t->t) }

bt_error bt_onednn_pack_conv2d_weight(bt_tensor weight, int64_t stride, int64_t padding, bt_tensor *out) {
  PROTECT({
    bt::require(weight->t.dim() == 4, "a convolution weight is [O, C, kH, kW], got " + bt::shape_of(weight->t));
    auto w = weight->t.is_mkldnn() ? weight->t : weight->t.contiguous().to_mkldnn();
    *out = bt::wrap(at::mkldnn_reorder_conv2d_weight(w, {padding, padding}, {stride, stride}, {1, 1}, 1));
  })
}

bt_error bt_onednn_conv2d(bt_tensor input, bt_tensor packed_weight, bt_tensor bias, int64_t stride,
                          int64_t padding, bt_tensor *out) {
  PROTECT({
    bt::require(input->t.is_mkldnn(), "bt_onednn_conv2d: the input is not in oneDNN's layout");
    c10::optional<at::Tensor> b;
    if (bias) b = bias->t;
    *out = bt::wrap(at::mkldnn_convolution(input->t, packed_weight->t, b, {padding, padding}, {stride, stride},
                                           {1, 1}, 1));
  })
}

}  // extern "C"

#else  // libtorch without oneDNN

#define NO_ONEDNN \
  return bt::dup_message("this libtorch was built without oneDNN (MKLDNN)");

extern "C" {
int bt_onednn_available(void) { return 0; }
bt_error bt_to_onednn(bt_tensor, bt_tensor *) { NO_ONEDNN }
bt_error bt_onednn_to_dense(bt_tensor, bt_tensor *) { NO_ONEDNN }
bt_error bt_onednn_pack_conv2d_weight(bt_tensor, int64_t, int64_t, bt_tensor *) { NO_ONEDNN }
bt_error bt_onednn_conv2d(bt_tensor, bt_tensor, bt_tensor, int64_t, int64_t, bt_tensor *) { NO_ONEDNN }
}

#endif

extern "C" {

bt_error bt_tensor_is_onednn(bt_tensor t, int *out) { PROTECT(*out = t->t.is_mkldnn() ? 1 : 0) }

bt_error bt_tensor_version(bt_tensor t, int64_t *out) { PROTECT(*out = static_cast<int64_t>(t->t._version())) }

}  // extern "C"
