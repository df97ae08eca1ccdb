//! Random solarization (Lightly's `RandomSolarization(prob)`, PIL's `ImageOps.solarize` with
//! threshold 128): every value at or above the threshold is inverted.
use torch::{Result, Tensor};

/// PIL's threshold 128 of 255, on images in `[0, 1]`.
pub const THRESHOLD: f64 = 128.0 / 255.0;

/// `x >= threshold ? 1 - x : x` on the images whose `flag` (`[N]`, 0 or 1) is 1.
pub fn solarize(x: &Tensor, flag: &Tensor, threshold: f64) -> Result<Tensor> {
    // |x - m| with m = 1 where a value inverts: 1 - x there, x elsewhere. m is
    // clamp(sign(x - threshold) + 2 flag - 1, 0, 1), without bool tensors (slow on CPU).
    let m = x.sub_scalar(threshold)?;
    m.sign_()?;
    m.add_(&flag.reshape(&[-1, 1, 1, 1])?.mul_scalar(2.0)?.add_scalar(-1.0)?)?;
    m.clamp_(Some(0.0), Some(1.0))?;
    let out = x.sub(&m)?;
    out.abs_()?;
    Ok(out)
}
