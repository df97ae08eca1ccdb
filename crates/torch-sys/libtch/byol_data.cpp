// Implementation of byol_data.h. Compiles against libtorch 1.13 (Debian, CPU) and 2.x (CUDA).
#include "byol_data.h"
#include "internal.h"

#include <c10/core/GradMode.h>

using bt::require;
using bt::shape_of;
using bt::wrap;

extern "C" {

bt_error bt_images_to_float(bt_tensor images, int nhwc, const double *mean, const double *std,
                            bt_tensor *out) {
  PROTECT({
    const at::Tensor &x = images->t;
    require(x.scalar_type() == at::kByte, "images must be uint8");
    require(x.dim() == 4 && x.size(nhwc ? 3 : 1) == 3,
            std::string("images must have shape ") + (nhwc ? "[N, H, W, 3]" : "[N, 3, H, W]") +
                ", got " + shape_of(x));
    auto opts = at::TensorOptions().dtype(at::kFloat).device(x.device());
    auto m = at::tensor(std::vector<double>{mean[0], mean[1], mean[2]}, at::kDouble)
                 .to(opts).mul(255.0).view({1, 3, 1, 1});
    auto s = at::tensor(std::vector<double>{std[0], std[1], std[2]}, at::kDouble)
                 .to(opts).mul(255.0).view({1, 3, 1, 1});
    auto nchw = nhwc ? x.permute({0, 3, 1, 2}) : x;
    // (x / 255 - mean) / std == (x - 255 mean) / (255 std), one rounding fewer per element.
    *out = wrap(nchw.to(at::kFloat).sub(m).div(s).contiguous());
  })
}

bt_error bt_l2_normalize_rows(bt_tensor x, double eps, bt_tensor *out) {
  PROTECT({
    const at::Tensor &t = x->t;
    require(t.dim() == 2, "expected a [N, D] matrix, got " + shape_of(t));
    *out = wrap(t.div(t.norm(2, {1}, true).clamp_min(eps)));
  })
}

bt_error bt_knn_classify(bt_tensor bank, bt_tensor bank_labels, bt_tensor queries,
                         int64_t num_classes, int64_t k, double temperature, int64_t chunk,
                         int conv_similarity, bt_tensor *predictions, bt_tensor *scores) {
  PROTECT({
    c10::NoGradGuard no_grad;  // c10's: ATen's alias is gone in libtorch 2.x
    const at::Tensor &b = bank->t;
    const at::Tensor &q = queries->t;
    require(b.dim() == 2 && q.dim() == 2 && b.size(1) == q.size(1),
            "bank " + shape_of(b) + " and queries " + shape_of(q) + " must be [N, D] and [M, D]");
    require(b.size(0) > 0, "the kNN bank is empty");
    require(bank_labels->t.dim() == 1 && bank_labels->t.size(0) == b.size(0),
            "bank labels " + shape_of(bank_labels->t) + " must be [" + std::to_string(b.size(0)) + "]");
    require(num_classes > 0 && k > 0 && temperature > 0 && chunk > 0,
            "num_classes, k, temperature and chunk must be positive");
    auto labels = bank_labels->t.to(b.device(), at::kLong);
    require(labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < num_classes,
            "bank labels must lie in [0, " + std::to_string(num_classes) + ")");
    const bool conv = conv_similarity != 0;
    auto bank_t = conv ? b.contiguous().view({b.size(0), b.size(1), 1, 1}) : b.t().contiguous();
    const int64_t kk = std::min<int64_t>(k, b.size(0));
    const int64_t m = q.size(0);
    std::vector<at::Tensor> preds, all_scores;
    for (int64_t start = 0; start < m; start += chunk) {
      auto f = q.narrow(0, start, std::min(chunk, m - start)).to(b.device(), b.scalar_type());
      auto sim = conv ? at::conv2d(f.t().contiguous().view({1, f.size(1), f.size(0), 1}), bank_t)
                           .view({b.size(0), f.size(0)})
                           .t()
                           .contiguous()
                     : at::matmul(f, bank_t);
      auto top = sim.topk(kk, -1);
      auto weights = std::get<0>(top).div(temperature).exp();
      auto votes = labels.index_select(0, std::get<1>(top).reshape({-1})).view({f.size(0), kk});
      auto s = at::zeros({f.size(0), num_classes}, weights.options()).scatter_add_(1, votes, weights);
      preds.push_back(s.argmax(1));
      if (scores) all_scores.push_back(s);
    }
    auto p = m ? at::cat(preds) : at::empty({0}, labels.options());
    at::Tensor s;
    if (scores) s = m ? at::cat(all_scores) : at::empty({0, num_classes}, b.options());
    *predictions = wrap(std::move(p));
    if (scores) *scores = wrap(std::move(s));
  })
}

}  // extern "C"
