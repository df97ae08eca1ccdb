/* Data-side operations of byol's C ABI: image batches, feature normalisation, kNN evaluation.
 *
 * Same conventions as byol_torch.h (NULL on success or an error string freed with
 * bt_error_free; owning tensor handles freed with bt_tensor_free). The Rust side declares these
 * in crates/torch-sys/src/data.rs.
 */
#ifndef BYOL_DATA_H
#define BYOL_DATA_H

#include "byol_torch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* uint8 images, [N, H, W, 3] when nhwc != 0 else [N, 3, H, W], to float32 [N, 3, H, W]
 * `(x / 255 - mean[c]) / std[c]` on the input's device (torchvision ToTensor + Normalize). */
bt_error bt_images_to_float(bt_tensor images, int nhwc, const double *mean, const double *std,
                            bt_tensor *out);

/* Rows divided by their L2 norm (at least eps): torch.nn.functional.normalize(x, dim=1). */
bt_error bt_l2_normalize_rows(bt_tensor x, double eps, bt_tensor *out);

/* Weighted kNN classification as Lightly's benchmarks (knn_predict): cosine similarity of
 * L2-normalised rows (the caller normalises), the k most similar bank rows vote for their labels
 * with weight exp(similarity / temperature). Queries are processed `chunk` rows at a time so the
 * similarity matrix never exceeds chunk x N. Writes the predicted class [M] (int64) and, when
 * scores is not NULL, the class scores [M, num_classes] (float32). With conv_similarity the
 * similarity block is computed as a 1x1 convolution (oneDNN) instead of a matrix product (the
 * BLAS): on the CPU that is 5x faster than the reference BLAS and 4x slower than OpenBLAS. */
bt_error bt_knn_classify(bt_tensor bank, bt_tensor bank_labels, bt_tensor queries,
                         int64_t num_classes, int64_t k, double temperature, int64_t chunk,
                         int conv_similarity, bt_tensor *predictions, bt_tensor *scores);

#ifdef __cplusplus
}
#endif

#endif
