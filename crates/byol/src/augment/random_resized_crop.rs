//! RandomResizedCrop, batched: torchvision's parameter draw made branch-free, and the resampling
//! as two per-image matrix products.
//!
//! torchvision's `RandomResizedCrop.get_params` tries up to 10 times to draw an area fraction in
//! `scale` and a log-uniform aspect ratio in `ratio`, keeps the first box that fits, and falls back
//! to the largest centred box of an allowed aspect ratio. Here every image draws all 10 candidates
//! at once, the first valid one is picked on the device (`argmax` of the validity mask), and the
//! fallback is a constant of the input size: no value ever travels to the host.
//!
//! Resampling follows PIL's bilinear `resize` of the cropped region (what torchvision does to the
//! PIL images Lightly's pipeline sees): each output pixel is a triangle-filter average of the
//! crop's pixels, the filter widened by the scale factor when the crop shrinks (antialiasing), and
//! the weights renormalised inside the crop. For enlargements this is exactly torchvision's
//! tensor `resized_crop(..., antialias=False)` too. Each output pixel has at most
//! `ceil(2 max(scale, 1))` taps per axis (2 for enlargements), so a batch is resized by a few
//! row gathers per axis (`index_select`) and weighted sums, which works the same on every device
//! and also carries flips for free (mirrored output coordinates). A dense `[out, in]` matrix per
//! image and `bmm` would do the same, but costs `in / taps` times more and runs on the reference
//! BLAS in Debian's libtorch.
use crate::augment::{column, columns};
use torch::{Device, Kind, Result, Tensor};

/// torchvision's default aspect-ratio range.
pub const RATIO: (f64, f64) = (3.0 / 4.0, 4.0 / 3.0);
/// Candidate boxes per image before the centre fallback (torchvision's loop).
pub const TRIES: i64 = 10;
/// Uniform numbers one image's crop consumes: an area and a ratio per try, then top and left.
pub const DRAWS: i64 = 2 * TRIES + 2;

/// Crop boxes of a batch, in pixels of the input (float64 tensors of shape `[N]`).
pub struct CropBoxes {
    pub top: Tensor,
    pub left: Tensor,
    pub height: Tensor,
    pub width: Tensor,
}

impl CropBoxes {
    /// The whole image for every one of `n` images (a plain resize).
    pub fn full(n: i64, height: i64, width: i64, device: Device) -> Result<CropBoxes> {
        Ok(CropBoxes {
            top: Tensor::zeros(&[n], Kind::Double, device)?,
            left: Tensor::zeros(&[n], Kind::Double, device)?,
            height: Tensor::full(&[n], height as f64, Kind::Double, device)?,
            width: Tensor::full(&[n], width as f64, Kind::Double, device)?,
        })
    }
}

/// torchvision's fallback box when no try fits: `(top, left, height, width)`.
pub fn fallback_box(height: i64, width: i64, ratio: (f64, f64)) -> (i64, i64, i64, i64) {
    let in_ratio = width as f64 / height as f64;
    let (h, w) = if in_ratio < ratio.0 {
        (round_half_even(width as f64 / ratio.0) as i64, width)
    } else if in_ratio > ratio.1 {
        (height, round_half_even(height as f64 * ratio.1) as i64)
    } else {
        (height, width)
    };
    ((height - h) / 2, (width - w) / 2, h, w)
}

fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

/// Draws one box per image from `u`, uniform `[0, 1)` numbers of shape `[N, DRAWS]` (float64),
/// for images of `height x width` pixels and area fractions in `[min_scale, max_scale]`.
pub fn sample(u: &Tensor, height: i64, width: i64, scale: (f64, f64), ratio: (f64, f64)) -> Result<CropBoxes> {
    let area = (height * width) as f64;
    let (log_lo, log_hi) = (ratio.0.ln(), ratio.1.ln());
    // target_area = area * U(scale); aspect = exp(U(log ratio))
    let target = columns(u, 0, TRIES)?.mul_scalar(scale.1 - scale.0)?;
    target.add_scalar_(scale.0)?;
    target.mul_scalar_(area)?;
    let aspect = columns(u, TRIES, TRIES)?.mul_scalar(log_hi - log_lo)?;
    aspect.add_scalar_(log_lo)?;
    aspect.exp_()?;
    // w = round(sqrt(target * aspect)), h = round(sqrt(target / aspect)) (half to even, as Python)
    let w = target.mul(&aspect)?.sqrt()?.round()?;
    let h = target.div(&aspect)?.sqrt()?.round()?;
    let fits = w
        .le_scalar(width as f64)?
        .logical_and(&h.le_scalar(height as f64)?)?
        .logical_and(&w.gt_scalar(0.0)?)?
        .logical_and(&h.gt_scalar(0.0)?)?
        .to_kind(Kind::Double)?;
    // The first try that fits (argmax returns the first maximum), and whether any did.
    let first = fits.argmax(1, true)?;
    let found = fits.amax(&[1], false)?;
    let (fb_top, fb_left, fb_h, fb_w) = fallback_box(height, width, ratio);
    let pick = |values: &Tensor, fallback: i64| -> Result<Tensor> {
        // found ? values[first] : fallback, without a branch
        let chosen = values.gather(1, &first)?.reshape(&[-1])?;
        let out = chosen.sub_scalar(fallback as f64)?.mul(&found)?;
        out.add_scalar_(fallback as f64)?;
        Ok(out)
    };
    let h = pick(&h, fb_h)?;
    let w = pick(&w, fb_w)?;
    // top = randint(0, height - h + 1): floor(U * (height - h + 1)), kept inside the range.
    let offset = |draw: &Tensor, size: i64, extent: &Tensor, fallback: i64| -> Result<Tensor> {
        let room = extent.rsub_scalar(size as f64)?;
        let drawn = draw.mul(&room.add_scalar(1.0)?)?.floor()?.minimum(&room)?;
        let out = drawn.sub_scalar(fallback as f64)?.mul(&found)?;
        out.add_scalar_(fallback as f64)?;
        Ok(out)
    };
    let top = offset(&column(u, 2 * TRIES)?, height, &h, fb_top)?;
    let left = offset(&column(u, 2 * TRIES + 1)?, width, &w, fb_left)?;
    Ok(CropBoxes { top, left, height: h, width: w })
}

/// Resampling taps along one axis for a batch: output pixel `u` of image `n` is
/// `sum_k weight[k, n, u] * input[index[k, n, u]]`.
pub struct Taps {
    /// Input pixel indices, int64 `[K, N, out]` (always inside the crop).
    pub index: Tensor,
    /// float32 `[K, N, out]`; the `K` weights of a pixel sum to the gain.
    pub weight: Tensor,
}

impl Taps {
    /// Taps of images `start .. start + n`.
    pub fn slice(&self, start: i64, n: i64) -> Result<Taps> {
        Ok(Taps { index: self.index.narrow(1, start, n)?, weight: self.weight.narrow(1, start, n)? })
    }
}

/// Taps a triangle filter of half-width `support` (at least 1) needs at most: the pixels whose
/// centres lie strictly within `support` of a point, `ceil(2 support)` of them.
pub fn tap_count(max_support: f64) -> i64 {
    (2.0 * max_support.max(1.0) - 1e-9).ceil() as i64
}

/// Resampling taps along one axis: for output pixel `u` of image `n` (or `out_size - 1 - u` where
/// `reverse[n]` is 1, which flips that axis), the input pixels within PIL's bilinear filter and
/// their weights. `start` and `length` (`[N]`) bound the crop on an axis of `in_size` pixels;
/// the weights of a pixel sum to `gain`.
pub fn taps(
    start: &Tensor,
    length: &Tensor,
    in_size: i64,
    out_size: i64,
    reverse: Option<&Tensor>,
    gain: f64,
) -> Result<Taps> {
    let device = start.device()?;
    let column = |t: &Tensor| t.to_kind(Kind::Double)?.reshape(&[-1, 1, 1]);
    let (start, length) = (column(start)?, column(length)?);
    // output coordinate u (or its mirror), [N or 1, out, 1]
    let mut u = Tensor::arange(out_size, Kind::Double, device)?.reshape(&[1, out_size, 1])?;
    if let Some(rev) = reverse {
        // u + rev * (out - 1 - 2u)
        let mirror = u.mul_scalar(-2.0)?;
        mirror.add_scalar_((out_size - 1) as f64)?;
        u = u.addcmul(&column(rev)?, &mirror, 1.0)?;
    }
    // centre of output pixel u in input pixels: start + (u + 0.5) * length / out
    let scale = length.div_scalar(out_size as f64)?;
    let centre = u.add_scalar(0.5)?.mul(&scale)?.add(&start)?;
    // PIL's bilinear filter: a triangle of half-width max(scale, 1) over pixel centres y + 0.5,
    // which reaches pixels from floor(centre - support + 0.5) on.
    let support = scale.maximum_scalar(1.0)?;
    let count = tap_count(in_size as f64 / out_size as f64);
    let first = centre.sub(&support)?.add_scalar(0.5)?.floor()?;
    let y = first.add(&Tensor::arange(count, Kind::Double, device)?.reshape(&[1, 1, count])?)?;
    let distance = y.add_scalar(0.5)?.sub(&centre)?.abs()?.div(&support)?;
    let weight = distance.rsub_scalar(1.0)?.maximum_scalar(0.0)?;
    // only pixels inside the crop, [start, start + length)
    let last = start.add(&length)?.add_scalar(-1.0)?;
    let inside = y.ge(&start)?.logical_and(&y.le(&last)?)?.to_kind(Kind::Double)?;
    let weight = weight.mul(&inside)?;
    let total = weight.sum_dims(&[2], true)?;
    let weight = weight.div(&total)?;
    if gain != 1.0 {
        weight.mul_scalar_(gain)?;
    }
    let index = y.maximum(&start)?.minimum(&last)?.to_kind(Kind::Int64)?;
    // [N, out, K] -> [K, N, out], so that each tap's slice of a chunk is contiguous
    Ok(Taps {
        index: index.permute(&[2, 0, 1])?.contiguous()?,
        weight: weight.to_kind(Kind::Float)?.permute(&[2, 0, 1])?.contiguous()?,
    })
}

/// Resamples the second-to-last axis of contiguous `x` (`[N, C, H, W]`) with per-image taps
/// (`[K, N, S]`): `[N, C, S, W]`, gathering whole rows (one `index_select` per tap).
fn resample_rows(x: &Tensor, taps: &Taps) -> Result<Tensor> {
    let shape = x.shape()?;
    let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3]);
    let t = taps.index.shape()?;
    let (k, s) = (t[0], t[2]);
    let device = x.device()?;
    let rows = x.reshape(&[n * c * h, w])?;
    // row (n, c, y) of the image is row (n * C + c) * H + y of `rows`
    let base = Tensor::arange(n * c, Kind::Int64, device)?.mul_scalar(h as f64)?.reshape(&[1, n, c, 1])?;
    let index = taps.index.unsqueeze(2)?.add(&base)?; // [K, N, C, S]
    let mut out: Option<Tensor> = None;
    for tap in 0..k {
        let picked = rows.index_select(0, &index.narrow(0, tap, 1)?.reshape(&[-1])?)?.reshape(&[n, c, s, w])?;
        let weight = taps.weight.narrow(0, tap, 1)?.reshape(&[n, 1, s, 1])?;
        out = Some(match out {
            None => picked.mul(&weight)?,
            Some(acc) => {
                // multiply, then add: addcmul_ with a broadcast weight is slow on CPU
                picked.mul_(&weight)?;
                acc.add_(&picked)?;
                acc
            }
        });
    }
    Ok(out.expect("at least one tap"))
}

/// Resamples images given *transposed* (`xt` is `[N, C, W, H]` contiguous, the image with its
/// axes swapped) to `[N, C, S, T]` (contiguous) with `rows` taps along H and `cols` taps along W.
/// Both passes gather whole rows: the columns pass on the transposed image, the rows pass on its
/// transpose back.
pub fn resample_transposed(xt: &Tensor, rows: &Taps, cols: &Taps) -> Result<Tensor> {
    let across = resample_rows(xt, cols)?; // [N, C, T, H]
    resample_rows(&across.transpose(2, 3)?.contiguous()?, rows) // [N, C, S, T]
}

/// `x` (`[N, C, H, W]` float) resampled to `[N, C, S, T]` with `rows` taps (`[K, N, S]`) along H
/// and `cols` taps along W.
pub fn resample(x: &Tensor, rows: &Taps, cols: &Taps) -> Result<Tensor> {
    resample_transposed(&x.transpose(2, 3)?.contiguous()?, rows, cols)
}

/// The crop-and-resize of a batch on given boxes: `x` `[N, C, H, W]` float to `[N, C, size, size]`,
/// multiplied by `gain`; `reverse_rows`/`reverse_cols` (`[N]`, 0 or 1) flip the output.
pub fn resized_crop(
    x: &Tensor,
    boxes: &CropBoxes,
    size: i64,
    reverse_rows: Option<&Tensor>,
    reverse_cols: Option<&Tensor>,
    gain: f64,
) -> Result<Tensor> {
    let shape = x.shape()?;
    let rows = taps(&boxes.top, &boxes.height, shape[2], size, reverse_rows, gain)?;
    let cols = taps(&boxes.left, &boxes.width, shape[3], size, reverse_cols, 1.0)?;
    resample(x, &rows, &cols)
}
