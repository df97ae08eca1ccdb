//! Random grayscale (`RandomGrayscale(random_gray_scale)`): ITU-R 601-2 luma, as PIL's
//! `convert("L")`, repeated on 3 channels.
use torch::{Result, Tensor};

/// ITU-R 601-2 luma weights of R, G, B (PIL's `L = R * 299/1000 + G * 587/1000 + B * 114/1000`;
/// torchvision's tensor version rounds the red weight to 0.2989).
pub const LUMA: [f64; 3] = [0.299, 0.587, 0.114];

/// Luma of `[N, 3, H, W]` images: `[N, 1, H, W]`.
pub fn luma(x: &Tensor) -> Result<Tensor> {
    let gray = x.narrow(1, 0, 1)?.mul_scalar(LUMA[0])?;
    gray.add_scaled_(&x.narrow(1, 1, 1)?, LUMA[1])?;
    gray.add_scaled_(&x.narrow(1, 2, 1)?, LUMA[2])?;
    Ok(gray)
}

/// Replaces, in place, each image whose `flag` (`[N]`, 0 or 1) is 1 by its luma on all three
/// channels.
pub fn random_grayscale_(x: &Tensor, flag: &Tensor) -> Result<()> {
    let flag = flag.reshape(&[-1, 1, 1, 1])?;
    // x + flag * (luma - x)
    let towards = luma(x)?.sub(x)?;
    x.addcmul_(&flag, &towards, 1.0)
}
