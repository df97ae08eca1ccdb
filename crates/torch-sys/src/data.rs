//! Declarations of `libtch/byol_data.h`: image batches, feature normalisation, kNN evaluation.
use crate::{bt_error, bt_tensor};
use std::os::raw::{c_double, c_int};

extern "C" {
    pub fn bt_images_to_float(
        images: bt_tensor,
        nhwc: c_int,
        mean: *const c_double,
        std: *const c_double,
        out: *mut bt_tensor,
    ) -> bt_error;
    pub fn bt_l2_normalize_rows(x: bt_tensor, eps: c_double, out: *mut bt_tensor) -> bt_error;
    pub fn bt_knn_classify(
        bank: bt_tensor,
        bank_labels: bt_tensor,
        queries: bt_tensor,
        num_classes: i64,
        k: i64,
        temperature: c_double,
        chunk: i64,
        conv_similarity: c_int,
        predictions: *mut bt_tensor,
        scores: *mut bt_tensor,
    ) -> bt_error;
}
