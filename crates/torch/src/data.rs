//! Data-side tensor operations: uint8 image batches to normalised floats, row normalisation and
//! the weighted kNN classifier of Lightly's benchmarks.
use crate::device::Device;
use crate::error::{check, Result, TorchError};
use crate::tensor::{produce, Tensor};
use std::ptr::null_mut;
use std::sync::OnceLock;
use torch_sys as sys;

/// How uint8 images are laid out in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageLayout {
    /// `[N, H, W, 3]`, as decoders and JavaScript image buffers hold them.
    Nhwc,
    /// `[N, 3, H, W]`, as torch models take them.
    Nchw,
}

impl Tensor {
    /// uint8 images to float32 `[N, 3, H, W]`: `(x / 255 - mean) / std` per channel
    /// (torchvision's `ToTensor` then `Normalize`), on the images' device.
    pub fn images_to_float(&self, layout: ImageLayout, mean: [f64; 3], std: [f64; 3]) -> Result<Tensor> {
        if std.iter().any(|&s| s <= 0.0) {
            return Err(TorchError::new(format!("normalisation std must be positive, got {std:?}")));
        }
        let nhwc = (layout == ImageLayout::Nhwc) as i32;
        produce(|out| unsafe { sys::bt_images_to_float(self.raw, nhwc, mean.as_ptr(), std.as_ptr(), out) })
    }

    /// Each row divided by its L2 norm (at least `eps`): `F.normalize(x, dim=1, eps=eps)`.
    pub fn l2_normalize_rows(&self, eps: f64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_l2_normalize_rows(self.raw, eps, out) })
    }
}

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
    Ok(*REFERENCE_BLAS.get_or_init(|| crate::blas().map_or(false, |b| b.reference)))
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
