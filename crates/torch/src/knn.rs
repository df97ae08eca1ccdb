//! The weighted kNN classifier of Lightly's benchmarks.
use crate::device::Device;
use crate::error::{check, Result};
use crate::tensor::Tensor;
use std::ptr::null_mut;
use std::sync::OnceLock;
use torch_sys as sys;

/// Parameters of the weighted kNN vote.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KnnParams {
    pub num_classes: i64,
    pub k: i64,
    pub temperature: f64,
    /// Query rows per similarity block (bounds memory at `chunk x bank rows` floats).
    pub chunk: i64,
}

/// On the CPU with netlib's reference BLAS, similarities as a 1x1 convolution (oneDNN): a
/// 256 x 50,000 block takes 0.6 s that way and 2.8-4.3 s as a matrix product; with OpenBLAS the
/// matrix product takes 0.16 s (bench/knn_route.py, BENCHMARKS.md).
fn conv_similarity(bank: &Tensor) -> Result<bool> {
    static REFERENCE_BLAS: OnceLock<bool> = OnceLock::new();
    if bank.device()? != Device::Cpu {
        return Ok(false);
    }
    Ok(*REFERENCE_BLAS.get_or_init(|| crate::blas().is_ok_and(|b| b.reference)))
}

/// Classifies `queries` `[M, D]` against `bank` `[N, D]` with labels `[N]`: the `k` most
/// cosine-similar bank rows (rows must be L2-normalised already) vote with weight
/// `exp(similarity / temperature)`. Returns the predicted classes `[M]` (int64) and the class
/// scores `[M, num_classes]`.
pub fn knn_classify(bank: &Tensor, labels: &Tensor, queries: &Tensor, p: KnnParams) -> Result<(Tensor, Tensor)> {
    let (mut preds, mut scores) = (null_mut(), null_mut());
    let conv = conv_similarity(bank)? as i32;
    check(unsafe {
        sys::bt_knn_classify(
            bank.raw,
            labels.raw,
            queries.raw,
            p.num_classes,
            p.k,
            p.temperature,
            p.chunk,
            conv,
            &mut preds,
            &mut scores,
        )
    })?;
    Ok((Tensor { raw: preds }, Tensor { raw: scores }))
}
