//! Gaussian blur as Lightly applies it: `PIL.ImageFilter.GaussianBlur(radius=sigma)` with
//! probability `gaussian_blur` and `sigma ~ U(sigmas)`, batched with a sigma per image.
//!
//! What "the kernel size PIL's GaussianBlur(radius=sigma) gives" is: PIL does not build a
//! Gaussian kernel. `ImagingGaussianBlur` (libImaging/BoxBlur.c) runs 3 passes of an *extended
//! box filter* along x, then 3 along y, whose box radius `r = l + a` (Gwosdek et al., 2011) makes
//! the 3 passes' variance equal `sigma^2`: with `s2 = sigma^2 / 3`,
//! `l = floor((sqrt(12 s2 + 1) - 1) / 2)` and
//! `a = (2l + 1)(l(l + 1) - 3 s2) / (6 (s2 - (l + 1)^2))`.
//! Each pass weighs the `2l + 1` central pixels by `ww = floor(2^24 / (2r + 1)) / 2^24` and the
//! two next ones by `fw = floor((2^24 - (2l + 1) ww) / 2) / 2^24`, repeating edge pixels beyond
//! the border. So one pass has `2l + 3` taps and the whole blur a support of `6l + 7` pixels per
//! axis: 7 for sigma < sqrt(2) and 13 for sigma in [sqrt(2), sqrt(6)), which covers Lightly's
//! `sigmas = (0.1, 2)`. This module reproduces that filter exactly (the same weights, edge
//! handling and pass order), except that PIL rounds to uint8 after every pass and this stays
//! in float.
use torch::{Kind, Result, Tensor};

const ONE: f64 = (1u32 << 24) as f64;

/// PIL's integer box radius `l` for a sigma (on the host, for sizing the kernels).
pub fn box_radius(sigma: f64) -> i64 {
    let s2 = sigma * sigma / 3.0;
    (((12.0 * s2 + 1.0).sqrt() - 1.0) / 2.0).floor().max(0.0) as i64
}

/// Taps on each side of one pass's kernel for sigmas up to `max_sigma`.
pub fn pass_radius(max_sigma: f64) -> i64 {
    box_radius(max_sigma) + 1
}

/// One pass's weights for each image: `[N, 2 radius + 1]` float32 from sigmas `[N]` (0 gives the
/// identity, as PIL skips a zero radius).
pub fn box_weights(sigma: &Tensor, radius: i64) -> Result<Tensor> {
    let device = sigma.device()?;
    let sigma = sigma.to_kind(Kind::Double)?.reshape(&[-1, 1])?;
    let s2 = sigma.mul(&sigma)?.mul_scalar(1.0 / 3.0)?;
    let big_l = s2.mul_scalar(12.0)?.add_scalar(1.0)?.sqrt()?;
    let l = big_l.add_scalar(-1.0)?.mul_scalar(0.5)?.floor()?;
    let l1 = l.add_scalar(1.0)?;
    // a = (2l + 1)(l(l + 1) - 3 s2) / (6 (s2 - (l + 1)^2))
    let width = l.mul_scalar(2.0)?.add_scalar(1.0)?;
    let numerator = width.mul(&l.mul(&l1)?.add_scaled(&s2, -3.0)?)?;
    let denominator = s2.sub(&l1.mul(&l1)?)?.mul_scalar(6.0)?;
    let r = l.add(&numerator.div(&denominator)?)?;
    // ww = floor(2^24 / (2r + 1)), fw = floor((2^24 - (2l + 1) ww) / 2)
    let ww = r.mul_scalar(2.0)?.add_scalar(1.0)?.rdiv_scalar(ONE)?.floor()?;
    let fw = width.mul(&ww)?.rsub_scalar(ONE)?.mul_scalar(0.5)?.floor()?;
    let k =
        Tensor::arange(2 * radius + 1, Kind::Double, device)?.add_scalar(-(radius as f64))?.abs()?.reshape(&[1, -1])?;
    let centre = k.le(&l)?.to_kind(Kind::Double)?.mul(&ww)?;
    let edge = k.eq(&l1)?.to_kind(Kind::Double)?.mul(&fw)?;
    centre.add(&edge)?.mul_scalar(1.0 / ONE)?.to_kind(Kind::Float)
}

/// Blurs `[N, C, H, W]` images with a sigma per image (`[N]`; 0 leaves an image unchanged);
/// `max_sigma` bounds the sigmas and sizes the kernels.
pub fn gaussian_blur(x: &Tensor, sigma: &Tensor, max_sigma: f64) -> Result<Tensor> {
    let shape = x.shape()?;
    let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3]);
    let radius = pass_radius(max_sigma);
    let taps = 2 * radius + 1;
    // every channel of an image gets its image's kernel: depthwise convolution, groups = N * C
    let kernel = box_weights(sigma, radius)?.unsqueeze(1)?.expand(&[n, c, taps])?;
    let across = kernel.reshape(&[n * c, 1, 1, taps])?;
    let down = kernel.reshape(&[n * c, 1, taps, 1])?;
    let mut y = x.reshape(&[1, n * c, h, w])?;
    for _ in 0..3 {
        y = replicate_pad(&y, 3, radius)?.conv2d(&across, None, [1, 1], [0, 0], n * c)?;
    }
    for _ in 0..3 {
        y = replicate_pad(&y, 2, radius)?.conv2d(&down, None, [1, 1], [0, 0], n * c)?;
    }
    y.reshape(&[n, c, h, w])
}

/// `x` with its first and last slices along `dim` repeated `r` more times on each side (PIL's
/// edge handling). One concatenation: cheaper than libtorch 1.13's replication padding.
fn replicate_pad(x: &Tensor, dim: i64, r: i64) -> Result<Tensor> {
    let mut shape = x.shape()?;
    let size = shape[dim as usize];
    shape[dim as usize] = r;
    let first = x.narrow(dim, 0, 1)?.expand(&shape)?;
    let last = x.narrow(dim, size - 1, 1)?.expand(&shape)?;
    Tensor::cat(&[&first, x, &last], dim)
}
