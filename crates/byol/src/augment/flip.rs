//! Random horizontal and vertical flips (torchvision's `RandomHorizontalFlip(hf_prob)`,
//! `RandomVerticalFlip(vf_prob)`), batched.
//!
//! Flips never move pixel values, so they are folded into the crop's resampling matrices (a
//! flipped axis is a matrix with its rows reversed) instead of costing a pass over the images.
//! Lightly flips *after* its 90-degree rotation; the two compose into one element of the
//! dihedral group, written here as "reverse rows, reverse columns, then transpose", so the
//! whole crop-rotate-flip chain stays two matrix products and, at most, one transpose.
use torch::{Result, Tensor};

/// Where each image's rows and columns are reversed and whether it is then transposed
/// (`[N]` float tensors of 0 and 1).
pub struct Dihedral {
    pub reverse_rows: Tensor,
    pub reverse_cols: Tensor,
    /// `None` when no image rotates.
    pub transpose: Option<Tensor>,
}

/// Lightly's order `vflip(hflip(rot90(x)))` as "reverse, then transpose".
///
/// With `T` the transpose and `R_r`/`R_c` row/column reversal of a square image, a
/// counter-clockwise quarter turn (PIL's `rotate(90)`, `torch.rot90(k=1)`) is `R_r T`, and
/// `R_r T = T R_c`, `R_c T = T R_r`. So `R_r^v R_c^h R_r T = T R_c^v R_r^h R_c`, and per image,
/// with flags r (rotate), h, v:
/// r = 0: reverse rows v, columns h; r = 1: transpose after reversing rows h, columns 1 - v.
pub fn compose(rotate: Option<&Tensor>, hflip: &Tensor, vflip: &Tensor) -> Result<Dihedral> {
    match rotate {
        None => Ok(Dihedral { reverse_rows: vflip.alias()?, reverse_cols: hflip.alias()?, transpose: None }),
        Some(r) => {
            // rows = r ? h : v = v + r (h - v); cols = r ? 1 - v : h = h + r (1 - v - h)
            let reverse_rows = vflip.addcmul(r, &hflip.sub(vflip)?, 1.0)?;
            let other = vflip.add(hflip)?.rsub_scalar(1.0)?;
            let reverse_cols = hflip.addcmul(r, &other, 1.0)?;
            Ok(Dihedral { reverse_rows, reverse_cols, transpose: Some(r.alias()?) })
        }
    }
}

/// `x` where `flag` is 0, its transpose (last two axes) where 1; `x` is `[N, C, S, S]` and `flag`
/// `[N]`.
pub fn transpose_where(x: &Tensor, flag: &Tensor) -> Result<Tensor> {
    let flag = flag.reshape(&[-1, 1, 1, 1])?;
    let swapped = x.transpose(2, 3)?.contiguous()?;
    swapped.sub_(x)?;
    x.addcmul(&flag, &swapped, 1.0)
}
