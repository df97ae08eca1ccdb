//! Random rotation, as Lightly's `random_rotation_transform(rr_prob, rr_degrees)`:
//! - `rr_degrees` unset: `RandomRotate(prob=rr_prob, angle=90)`, a counter-clockwise quarter turn
//!   with probability `rr_prob`. It is exact, so it joins the flips in the crop's matrices (see
//!   `flip::compose`).
//! - `rr_degrees = (lo, hi)`: `RandomApply([RandomRotation((lo, hi))], p=rr_prob)`, an angle drawn
//!   uniformly in degrees, counter-clockwise about the centre, nearest-neighbour sampling, black
//!   outside the rotated image (torchvision's defaults). The flips that follow in Lightly's order
//!   fold into the same sampling grid.
use torch::{Kind, Result, SamplePadding, Sampling, Tensor};

/// Rotates `[N, C, S, S]` images by `degrees` (`[N]`, counter-clockwise), then flips them where
/// `hflip`/`vflip` (`[N]`, 0 or 1) say, in one nearest-neighbour resampling.
pub fn rotate(x: &Tensor, degrees: &Tensor, hflip: Option<&Tensor>, vflip: Option<&Tensor>) -> Result<Tensor> {
    let shape = x.shape()?;
    let n = shape[0];
    let radians = degrees.to_kind(Kind::Float)?.mul_scalar(std::f64::consts::PI / 180.0)?.reshape(&[n, 1])?;
    let (c, s) = (radians.cos()?, radians.sin()?);
    // Flipping the output axis x (or y) is sampling at -x (or -y): a sign on that column.
    let sign = |flag: Option<&Tensor>| -> Result<Tensor> {
        match flag {
            Some(f) => f.to_kind(Kind::Float)?.reshape(&[n, 1])?.mul_scalar(-2.0)?.add_scalar(1.0),
            None => Tensor::full(&[n, 1], 1.0, Kind::Float, x.device()?),
        }
    };
    let (fx, fy) = (sign(hflip)?, sign(vflip)?);
    // Output pixel p (normalised, y down) samples the input at M^-1 F p, where M turns the image
    // counter-clockwise on screen: M^-1 = [[cos, -sin], [sin, cos]].
    let zero = Tensor::zeros(&[n, 1], Kind::Float, x.device()?)?;
    let theta = Tensor::cat(&[&c.mul(&fx)?, &s.mul(&fy)?.neg()?, &zero, &s.mul(&fx)?, &c.mul(&fy)?, &zero], 1)?
        .reshape(&[n, 2, 3])?;
    let grid = Tensor::affine_grid(&theta, [n, shape[1], shape[2], shape[3]], false)?;
    x.grid_sample(&grid, Sampling::Nearest, SamplePadding::Zeros, false)
}
