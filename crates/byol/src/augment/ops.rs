//! One transform on given per-image parameters, through the same functions the view pipeline
//! uses. This is a test entry point: it lets the tests hold each transform against torchvision's
//! functional op on fixed parameters without a second copy of the transform's logic.
use crate::augment::color_jitter::{self, JitterParams, JitterPlan};
use crate::augment::config::Normalize;
use crate::augment::flip;
use crate::augment::gaussian_blur;
use crate::augment::grayscale;
use crate::augment::normalize::Normalization;
use crate::augment::random_resized_crop::{self as rrc, CropBoxes};
use crate::augment::rotation;
use crate::augment::solarize;
use torch::{Kind, Result, Tensor};

/// A transform and its per-image parameters (`[N]` tensors unless noted).
pub enum Op {
    /// torchvision `resized_crop(img, top, left, height, width, [size, size])`, bilinear with
    /// PIL's antialiasing when shrinking.
    ResizedCrop {
        boxes: CropBoxes,
        size: i64,
    },
    /// `hflip` where the flag is 1.
    HorizontalFlip(Tensor),
    /// `vflip` where the flag is 1.
    VerticalFlip(Tensor),
    /// Lightly's rotation by 90 degrees counter-clockwise where the flag is 1.
    Rotate90(Tensor),
    /// torchvision `rotate(img, angle)` (nearest, black fill) by a per-image angle in degrees.
    Rotate(Tensor),
    Brightness(Tensor),
    Contrast(Tensor),
    Saturation(Tensor),
    /// Hue shift in turns.
    Hue(Tensor),
    /// ColorJitter with `factors` `[N, 4]` (brightness, contrast, saturation, hue) applied in
    /// `order` (`[N, 4]` int64, operation codes 0-3 in the order they run).
    ColorJitter {
        factors: Tensor,
        order: Tensor,
    },
    /// rgb_to_grayscale (3 channels out) where the flag is 1.
    Grayscale(Tensor),
    /// PIL's GaussianBlur(radius=sigma).
    GaussianBlur(Tensor),
    /// Solarize at `threshold` where the flag is 1.
    Solarize {
        flag: Tensor,
        threshold: f64,
    },
    Normalize(Normalize),
}

impl Op {
    /// The names [`Op`]s go by in the test entry point.
    pub const NAMES: [&'static str; 14] = [
        "resized_crop",
        "hflip",
        "vflip",
        "rotate90",
        "rotate",
        "brightness",
        "contrast",
        "saturation",
        "hue",
        "color_jitter",
        "grayscale",
        "gaussian_blur",
        "solarize",
        "normalize",
    ];
}

/// Applies `op` to float images `[N, 3, H, W]` with values in `[0, 1]`.
pub fn apply_op(x: &Tensor, op: &Op) -> Result<Tensor> {
    let shape = x.shape()?;
    let (n, h, w) = (shape[0], shape[2], shape[3]);
    let device = x.device()?;
    let x = x.to_kind(Kind::Float)?;
    let ones = || Tensor::full(&[n], 1.0, Kind::Float, device);
    let zeros = || Tensor::zeros(&[n], Kind::Float, device);
    // Flips and quarter turns take the pipeline's path: an identity crop whose matrices carry the
    // reversals, then the transpose.
    let dihedral = |rotate: Option<&Tensor>, hflip: &Tensor, vflip: &Tensor| -> Result<Tensor> {
        if rotate.is_some() && h != w {
            return Err(torch::TorchError::new("quarter turns need square images"));
        }
        let d = flip::compose(rotate, hflip, vflip)?;
        let boxes = CropBoxes::full(n, h, w, device)?;
        let y = rrc::resized_crop(&x, &boxes, h, Some(&d.reverse_rows), Some(&d.reverse_cols), 1.0)?;
        match &d.transpose {
            Some(t) => flip::transpose_where(&y, t),
            None => Ok(y),
        }
    };
    match op {
        Op::ResizedCrop { boxes, size } => rrc::resized_crop(&x, boxes, *size, None, None, 1.0),
        Op::HorizontalFlip(flag) => dihedral(None, flag, &zeros()?),
        Op::VerticalFlip(flag) => dihedral(None, &zeros()?, flag),
        Op::Rotate90(flag) => dihedral(Some(flag), &zeros()?, &zeros()?),
        Op::Rotate(degrees) => rotation::rotate(&x, degrees, None, None),
        Op::Brightness(f) => color_jitter::brightness(&x, &f.to_kind(Kind::Float)?),
        Op::Contrast(f) => color_jitter::contrast(&x, &f.to_kind(Kind::Float)?),
        Op::Saturation(f) => color_jitter::saturation(&x, &f.to_kind(Kind::Float)?),
        Op::Hue(turns) => color_jitter::adjust_hue(&x, &turns.to_kind(Kind::Float)?.reshape(&[-1, 1, 1, 1])?),
        Op::ColorJitter { factors, order } => {
            let params = JitterParams {
                apply: ones()?.to_kind(Kind::Double)?,
                factors: factors.to_kind(Kind::Double)?,
                order: order.alias()?,
            };
            JitterPlan::new(&params)?.apply(&x, true)
        }
        Op::Grayscale(flag) => {
            let y = x.deep_clone()?;
            grayscale::random_grayscale_(&y, &flag.to_kind(Kind::Float)?)?;
            Ok(y)
        }
        Op::GaussianBlur(sigma) => {
            let max = sigma.to_f32_vec()?.into_iter().fold(0f32, f32::max) as f64;
            gaussian_blur::gaussian_blur(&x, sigma, max)
        }
        Op::Solarize { flag, threshold } => solarize::solarize(&x, &flag.to_kind(Kind::Float)?, *threshold),
        Op::Normalize(n) => Normalization::new(Some(n), device)?.apply(&x),
    }
}
