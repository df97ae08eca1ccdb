//! Colour jitter, `RandomApply([ColorJitter(b, c, s, h)], p=cj_prob)`, batched with a random
//! order per image.
//!
//! torchvision's formulas on float images in `[0, 1]`:
//! - brightness `f`: `clamp(f x)`
//! - contrast `f`: `clamp(f x + (1 - f) mean(luma(x)))`, the mean over the whole image
//! - saturation `f`: `clamp(f x + (1 - f) luma(x))`
//! - hue `h` (turns): shift the HSV hue by `h`, keeping HSV saturation and value.
//!
//! ColorJitter applies the four in the order of a fresh `randperm(4)`. Three of them are the same
//! blend `clamp(f x + a luma(x) + b mean)` with different coefficients, so a batch runs as:
//! three blend stages (the blends an image has before its hue), one hue stage, three blend stages
//! (the blends after it). In each stage every image applies its own operation or an identity
//! (`f = 1, a = b = 0`, hue 0): every image gets exactly its permutation, with six cheap blend
//! passes and one hue pass instead of a data-dependent branch per image.
use crate::augment::{column, columns, grayscale::luma, per_image};
use torch::{Kind, Result, Tensor};

pub const BRIGHTNESS: i64 = 0;
pub const CONTRAST: i64 = 1;
pub const SATURATION: i64 = 2;
pub const HUE: i64 = 3;
/// Uniform numbers one image consumes: apply, four factors, four sort keys for the order.
pub const DRAWS: i64 = 9;
/// Blend stages: up to three before the hue and up to three after it.
const STAGES: i64 = 6;

/// One batch's draws (float64 unless noted, `[N]` or `[N, 4]`).
pub struct JitterParams {
    /// 1 where ColorJitter runs (probability `cj_prob`), else 0.
    pub apply: Tensor,
    /// Brightness, contrast, saturation and hue factors, `[N, 4]`.
    pub factors: Tensor,
    /// `order[n, k]`: the operation (0 brightness, 1 contrast, 2 saturation, 3 hue) that image
    /// `n` applies `k`-th; a uniformly random permutation (int64 `[N, 4]`).
    pub order: Tensor,
}

/// Draws the parameters of a batch from `u` (`[N, DRAWS]` uniform float64): `ranges` are the
/// factor ranges of brightness, contrast, saturation and hue (`ViewConfig::jitter_ranges`).
pub fn sample(u: &Tensor, prob: f64, ranges: [(f64, f64); 4]) -> Result<JitterParams> {
    let apply = column(u, 0)?.lt_scalar(prob)?.to_kind(Kind::Float)?.to_kind(Kind::Double)?;
    let factors = ranges
        .iter()
        .enumerate()
        .map(|(i, &(lo, hi))| {
            let f = columns(u, 1 + i as i64, 1)?.mul_scalar(hi - lo)?;
            f.add_scalar_(lo)?;
            Ok(f)
        })
        .collect::<Result<Vec<_>>>()?;
    let factors = Tensor::cat(&factors.iter().collect::<Vec<_>>(), 1)?;
    // argsort of i.i.d. uniforms is a uniformly random permutation (torch.randperm(4)).
    let order = columns(u, 5, 4)?.argsort(1, false)?;
    Ok(JitterParams { apply, factors, order })
}

/// The per-stage coefficients of a batch: blend stage `k` maps `x` to
/// `clamp(factor x + to_gray luma(x) + to_mean mean(luma(x)))` (float32 `[N, 6]`), then the hue
/// stage shifts by `hue` turns (`[N]`) between stages 2 and 3.
pub struct JitterPlan {
    pub factor: Tensor,
    pub to_gray: Tensor,
    pub to_mean: Tensor,
    pub hue: Tensor,
}

impl JitterPlan {
    pub fn new(params: &JitterParams) -> Result<JitterPlan> {
        let device = params.factors.device()?;
        // rank[n, op]: the position of op in image n's order (the inverse permutation).
        let rank = params.order.argsort(1, false)?.to_kind(Kind::Double)?;
        let hue_at = rank.narrow(1, HUE, 1)?; // [N, 1]
        let j = Tensor::arange(3, Kind::Double, device)?.reshape(&[1, 3])?;
        // Stage j < 3 runs the blend at position j if that comes before the hue (else nothing:
        // position -1); stage 3 + j runs the blend at position hue + 1 + j.
        let before = j.lt(&hue_at)?.to_kind(Kind::Double)?;
        let early = j.add_scalar(1.0)?.mul(&before)?.add_scalar(-1.0)?;
        let late = j.add(&hue_at)?.add_scalar(1.0)?;
        let position = Tensor::cat(&[&early, &late], 1)?.unsqueeze(2)?; // [N, 6, 1]
                                                                        // selected[n, k, op]: image n blends with op in stage k (and ColorJitter runs at all)
        let blends = rank.narrow(1, 0, 3)?.unsqueeze(1)?; // [N, 1, 3]
        let apply = params.apply.reshape(&[-1, 1, 1])?;
        let selected = blends.eq(&position)?.to_kind(Kind::Double)?.mul(&apply)?;
        // (1 - f) of the selected operation, 0 elsewhere
        let one_minus = params.factors.narrow(1, 0, 3)?.rsub_scalar(1.0)?.unsqueeze(1)?;
        let delta = selected.mul(&one_minus)?; // [N, 6, 3]
        let factor = delta.sum_dims(&[2], false)?.rsub_scalar(1.0)?;
        let pick = |op: i64| delta.narrow(2, op, 1)?.reshape(&[-1, STAGES])?.to_kind(Kind::Float);
        let hue = params.factors.narrow(1, HUE, 1)?.reshape(&[-1])?.mul(&params.apply)?;
        Ok(JitterPlan {
            factor: factor.to_kind(Kind::Float)?,
            to_gray: pick(SATURATION)?,
            to_mean: pick(CONTRAST)?,
            hue: hue.to_kind(Kind::Float)?,
        })
    }

    /// Rows `start .. start + n` of the plan.
    pub fn slice(&self, start: i64, n: i64) -> Result<JitterPlan> {
        Ok(JitterPlan {
            factor: self.factor.narrow(0, start, n)?,
            to_gray: self.to_gray.narrow(0, start, n)?,
            to_mean: self.to_mean.narrow(0, start, n)?,
            hue: self.hue.narrow(0, start, n)?,
        })
    }

    /// Runs the plan on `[N, 3, H, W]` images in `[0, 1]`; `with_hue` false skips the hue stage
    /// (a hue range of 0).
    pub fn apply(&self, x: &Tensor, with_hue: bool) -> Result<Tensor> {
        self.apply_stages(x, with_hue, Stages::All)
    }

    /// Runs the stages `stages` says; with [`Stages::HueAt`] every image must have its hue at
    /// that position (the other stages are identities for all of them).
    pub fn apply_stages(&self, x: &Tensor, with_hue: bool, stages: Stages) -> Result<Tensor> {
        let stage = |x: &Tensor, k: i64| -> Result<Tensor> {
            let coefficient = |t: &Tensor| per_image(&t.narrow(1, k, 1)?);
            blend(x, &coefficient(&self.factor)?, &coefficient(&self.to_gray)?, &coefficient(&self.to_mean)?)
        };
        let (before, after) = match stages {
            Stages::None => return x.alias(),
            Stages::All => (0..3, 3..STAGES),
            // the p blends before the hue, then the 3 - p after it
            Stages::HueAt(p) => (0..p, 3..STAGES - p),
        };
        let mut x = x.alias()?;
        for k in before {
            x = stage(&x, k)?;
        }
        if with_hue {
            x = adjust_hue(&x, &per_image(&self.hue)?)?;
        }
        for k in after {
            x = stage(&x, k)?;
        }
        Ok(x)
    }
}

/// Which stages of a [`JitterPlan`] a group of images needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stages {
    /// Every stage (images with any order).
    All,
    /// Images whose hue runs at position `p` (0-3): 3 blends and the hue.
    HueAt(i64),
    /// Images without colour jitter.
    None,
}

impl JitterParams {
    /// The stages each image needs, read on the host (for grouping images on CPU).
    pub fn stages(&self) -> Result<Vec<Stages>> {
        let apply = self.apply.to_f32_vec()?;
        let order: Vec<i64> =
            self.order.to_bytes()?.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap())).collect();
        Ok(apply
            .iter()
            .enumerate()
            .map(|(i, &a)| {
                if a == 0.0 {
                    Stages::None
                } else {
                    Stages::HueAt(order[4 * i..4 * i + 4].iter().position(|&op| op == HUE).unwrap_or(3) as i64)
                }
            })
            .collect())
    }
}

/// `clamp(factor x + to_gray luma(x) + to_mean mean(luma(x)), 0, 1)` with per-image coefficients
/// (`[N, 1, 1, 1]` float32).
pub fn blend(x: &Tensor, factor: &Tensor, to_gray: &Tensor, to_mean: &Tensor) -> Result<Tensor> {
    let gray = luma(x)?;
    let mean = gray.mean_dims(&[1, 2, 3], true)?;
    // to_gray * luma + to_mean * mean (addcmul with broadcasting is slow on CPU)
    let towards = gray.mul(to_gray)?;
    towards.add_(&to_mean.mul(&mean)?)?;
    let out = towards.addcmul(factor, x, 1.0)?;
    out.clamp_(Some(0.0), Some(1.0))?;
    Ok(out)
}

/// torchvision's `adjust_brightness` with per-image factors (`[N]`).
pub fn brightness(x: &Tensor, factor: &Tensor) -> Result<Tensor> {
    let zero = factor.mul_scalar(0.0)?;
    blend(x, &per_image(factor)?, &per_image(&zero)?, &per_image(&zero)?)
}

/// torchvision's `adjust_contrast` with per-image factors (`[N]`).
pub fn contrast(x: &Tensor, factor: &Tensor) -> Result<Tensor> {
    let zero = factor.mul_scalar(0.0)?;
    blend(x, &per_image(factor)?, &per_image(&zero)?, &per_image(&factor.rsub_scalar(1.0)?)?)
}

/// torchvision's `adjust_saturation` with per-image factors (`[N]`).
pub fn saturation(x: &Tensor, factor: &Tensor) -> Result<Tensor> {
    let zero = factor.mul_scalar(0.0)?;
    blend(x, &per_image(factor)?, &per_image(&factor.rsub_scalar(1.0)?)?, &per_image(&zero)?)
}

/// torchvision's `adjust_hue`: rotates the HSV hue of `[N, 3, H, W]` images in `[0, 1]` by
/// `turns` (`[N, 1, 1, 1]`, in `[-0.5, 0.5]`), keeping HSV saturation and value.
///
/// HSV value is the channel maximum and value times saturation the max - min spread `d`; the
/// output channel `c` is `max - d * T(h + n_c)` with `h` the hue in sextants, `n = (5, 3, 1)` for
/// R, G, B and `T` the trapezoid of the hexcone (`T(k) = clamp(min(k, 4 - k), 0, 1)` on
/// `[0, 6)`), written here as `clamp(dist(k, 5) - 1, 0, 1)` with `dist` the distance on the circle
/// of circumference 6. The hue itself is torchvision's piecewise formula: for the maximum channel
/// `m` (the first one on ties: R, then G, then B), `h = 2m + (x[(m + 1) % 3] - x[(m + 2) % 3]) / d`,
/// computed with 0/1 masks of the maximum channel (no gathers: they are slow on CPU).
pub fn adjust_hue(x: &Tensor, turns: &Tensor) -> Result<Tensor> {
    let device = x.device()?;
    let (r, g, b) = (x.narrow(1, 0, 1)?, x.narrow(1, 1, 1)?, x.narrow(1, 2, 1)?);
    let max = x.amax(&[1], true)?;
    let spread = max.sub(&x.amin(&[1], true)?)?;
    // Which channel is the maximum, the first one on ties (R, then G, then B), as 0/1 masks.
    let is_r = r.at_least(&max)?;
    let is_g = g.at_least(&max)?.mul(&is_r.rsub_scalar(1.0)?)?;
    let is_b = is_r.add(&is_g)?.rsub_scalar(1.0)?;
    // h * d = (g - b) for R, 2d + (b - r) for G, 4d + (r - g) for B
    let sextant = g.sub(&b)?.mul(&is_r)?;
    sextant.addcmul_(&is_g, &b.sub(&r)?, 1.0)?;
    sextant.addcmul_(&is_b, &r.sub(&g)?, 1.0)?;
    // Gray pixels (d = 0) come out as max whatever their hue; avoid 0 / 0 on the way.
    sextant.div_(&spread.clamp(Some(1e-12), None)?)?;
    sextant.add_scaled_(&is_g.add_scaled(&is_b, 2.0)?, 2.0)?;
    sextant.add_scaled_(turns, 6.0)?;
    // into [0, 6)
    let wraps = sextant.mul_scalar(1.0 / 6.0)?;
    wraps.floor_()?;
    sextant.add_scaled_(&wraps, -6.0)?;
    // per channel: distance on the circle from sextant + n_c to 5, with n_c - 5 = 0, -2, -4
    let offsets = Tensor::arange(3, Kind::Float, device)?.mul_scalar(-2.0)?.reshape(&[1, 3, 1, 1])?;
    let e = sextant.add(&offsets)?;
    e.abs_()?;
    let distance = e.minimum(&e.rsub_scalar(6.0)?)?;
    distance.sub_scalar_(1.0)?;
    distance.clamp_(Some(0.0), Some(1.0))?;
    max.addcmul(&spread, &distance, -1.0)
}
