//! What each view's transform does: Lightly's `BYOLView1Transform` / `BYOLView2Transform`
//! arguments (same names, same defaults), the presets, and their validation.
use std::fmt;

/// `torchvision.transforms.Normalize` after `ToTensor`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalize {
    pub mean: [f64; 3],
    pub std: [f64; 3],
}

/// ImageNet statistics, Lightly's `IMAGENET_NORMALIZE`.
pub const IMAGENET_NORMALIZE: Normalize = Normalize { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/// One view's augmentation, with Lightly's argument names. Order of application (as Lightly's
/// `BYOLView1Transform`): RandomResizedCrop, rotation, horizontal flip, vertical flip, colour
/// jitter (with probability `cj_prob`), random grayscale, Gaussian blur, solarization, normalize.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewConfig {
    /// Output height and width of RandomResizedCrop.
    pub input_size: i64,
    pub cj_prob: f64,
    pub cj_strength: f64,
    pub cj_bright: f64,
    pub cj_contrast: f64,
    pub cj_sat: f64,
    pub cj_hue: f64,
    /// RandomResizedCrop's area fraction is drawn from `[min_scale, 1]`.
    pub min_scale: f64,
    pub random_gray_scale: f64,
    /// Probability of the Gaussian blur.
    pub gaussian_blur: f64,
    /// The blur's sigma (PIL's `radius`) is drawn uniformly from `[sigmas.0, sigmas.1]`.
    pub sigmas: (f64, f64),
    pub solarization_prob: f64,
    pub vf_prob: f64,
    pub hf_prob: f64,
    pub rr_prob: f64,
    /// `None`: rotations by 90 degrees (Lightly's `RandomRotate`); `Some((lo, hi))`: an angle in
    /// degrees drawn from `[lo, hi]` (torchvision's `RandomRotation`, nearest, black corners).
    pub rr_degrees: Option<(f64, f64)>,
    pub normalize: Option<Normalize>,
}

impl ViewConfig {
    /// Lightly's `BYOLView1Transform()` defaults.
    pub fn byol_view1_transform() -> ViewConfig {
        ViewConfig {
            input_size: 224,
            cj_prob: 0.8,
            cj_strength: 1.0,
            cj_bright: 0.4,
            cj_contrast: 0.4,
            cj_sat: 0.2,
            cj_hue: 0.1,
            min_scale: 0.08,
            random_gray_scale: 0.2,
            gaussian_blur: 1.0,
            sigmas: (0.1, 2.0),
            solarization_prob: 0.0,
            vf_prob: 0.0,
            hf_prob: 0.5,
            rr_prob: 0.0,
            rr_degrees: None,
            normalize: Some(IMAGENET_NORMALIZE),
        }
    }

    /// Lightly's `BYOLView2Transform()` defaults: blur 0.1, solarization 0.2.
    pub fn byol_view2_transform() -> ViewConfig {
        ViewConfig { gaussian_blur: 0.1, solarization_prob: 0.2, ..ViewConfig::byol_view1_transform() }
    }

    /// Brightness, contrast and saturation ranges `[max(0, 1 - x), 1 + x]` and the hue range
    /// `[-x, x]` of torchvision's `ColorJitter(cj_strength * cj_bright, ...)`.
    pub fn jitter_ranges(&self) -> [(f64, f64); 4] {
        let s = self.cj_strength;
        let factor = |x: f64| ((1.0 - s * x).max(0.0), 1.0 + s * x);
        [factor(self.cj_bright), factor(self.cj_contrast), factor(self.cj_sat), (-s * self.cj_hue, s * self.cj_hue)]
    }

    /// A scalar field by its JavaScript name (one of [`NUMBER_FIELDS`]).
    pub fn number(&self, name: &str) -> Option<f64> {
        let mut copy = self.clone();
        copy.number_mut(name).map(|x| *x)
    }

    /// A scalar field by its JavaScript name (one of [`NUMBER_FIELDS`]), to set it.
    pub fn number_mut(&mut self, name: &str) -> Option<&mut f64> {
        Some(match name {
            "cjProb" => &mut self.cj_prob,
            "cjStrength" => &mut self.cj_strength,
            "cjBright" => &mut self.cj_bright,
            "cjContrast" => &mut self.cj_contrast,
            "cjSat" => &mut self.cj_sat,
            "cjHue" => &mut self.cj_hue,
            "minScale" => &mut self.min_scale,
            "randomGrayScale" => &mut self.random_gray_scale,
            "gaussianBlur" => &mut self.gaussian_blur,
            "solarizationProb" => &mut self.solarization_prob,
            "vfProb" => &mut self.vf_prob,
            "hfProb" => &mut self.hf_prob,
            "rrProb" => &mut self.rr_prob,
            _ => return None,
        })
    }

    /// Checks every field; the error names the field (`prefix.field`, with Lightly's name in
    /// camelCase as the JavaScript options spell it).
    pub fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let field = |name: &str| if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") };
        if !(1..=8192).contains(&self.input_size) {
            return Err(ConfigError::range(
                field("inputSize"),
                format!("must be an integer in [1, 8192], got {}", self.input_size),
            ));
        }
        for (name, bound) in NUMBER_FIELDS {
            let x = self.number(name).expect("a listed field");
            bound.check(x).map_err(|message| ConfigError::range(field(name), message))?;
        }
        if self.cj_strength * self.cj_hue > 0.5 {
            return Err(ConfigError::range(
                field("cjHue"),
                format!(
                    "cjStrength * cjHue must be at most 0.5 (torchvision's hue range), got {}",
                    self.cj_strength * self.cj_hue
                ),
            ));
        }
        let (lo, hi) = self.sigmas;
        if !(lo >= 0.0 && hi.is_finite() && lo <= hi) {
            return Err(ConfigError::range(
                field("sigmas"),
                format!("must be [min, max] with 0 <= min <= max, got [{lo}, {hi}]"),
            ));
        }
        if hi > 64.0 {
            return Err(ConfigError::range(field("sigmas"), format!("max sigma must be at most 64, got {hi}")));
        }
        if let Some((a, b)) = self.rr_degrees {
            if !(a.is_finite() && b.is_finite() && a <= b) {
                return Err(ConfigError::range(
                    field("rrDegrees"),
                    format!("must be [min, max] with min <= max, got [{a}, {b}]"),
                ));
            }
        }
        if let Some(n) = &self.normalize {
            if n.mean.iter().any(|m| !m.is_finite()) {
                return Err(ConfigError::range(
                    field("normalize.mean"),
                    format!("must hold finite numbers, got {:?}", n.mean),
                ));
            }
            if n.std.iter().any(|s| !(*s > 0.0 && s.is_finite())) {
                return Err(ConfigError::range(
                    field("normalize.std"),
                    format!("must hold positive numbers, got {:?}", n.std),
                ));
            }
        }
        Ok(())
    }
}

/// The allowed values of a scalar field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `[0, 1]`
    Probability,
    /// finite and `>= 0`
    NonNegative,
    /// `(0, 1]` (an area fraction)
    Fraction,
}

impl Bound {
    /// `Err` holds what is wrong (to follow the field's name).
    pub fn check(self, x: f64) -> Result<(), String> {
        match self {
            Bound::Probability if (0.0..=1.0).contains(&x) => Ok(()),
            Bound::Probability => Err(format!("must be a probability in [0, 1], got {x}")),
            Bound::NonNegative if x >= 0.0 && x.is_finite() => Ok(()),
            Bound::NonNegative => Err(format!("must be a finite number >= 0, got {x}")),
            Bound::Fraction if x > 0.0 && x <= 1.0 => Ok(()),
            Bound::Fraction => Err(format!("must be in (0, 1], got {x}")),
        }
    }
}

/// A view's scalar fields, by their JavaScript names (Lightly's in camelCase), and their bounds.
pub const NUMBER_FIELDS: [(&str, Bound); 13] = [
    ("cjProb", Bound::Probability),
    ("cjStrength", Bound::NonNegative),
    ("cjBright", Bound::NonNegative),
    ("cjContrast", Bound::NonNegative),
    ("cjSat", Bound::NonNegative),
    ("cjHue", Bound::NonNegative),
    ("minScale", Bound::Fraction),
    ("randomGrayScale", Bound::Probability),
    ("gaussianBlur", Bound::Probability),
    ("solarizationProb", Bound::Probability),
    ("vfProb", Bound::Probability),
    ("hfProb", Bound::Probability),
    ("rrProb", Bound::Probability),
];

/// The named starting points that every field then overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Lightly's defaults: 224 pixels, blur 1.0 / 0.1, solarization 0 / 0.2.
    Byol,
    /// Lightly's CIFAR-10 example: `input_size=32, gaussian_blur=0.0` for both views.
    ByolCifar,
}

impl Preset {
    pub const NAMES: [&'static str; 2] = ["byol", "byol-cifar"];

    pub fn parse(name: &str) -> Option<Preset> {
        match name {
            "byol" => Some(Preset::Byol),
            "byol-cifar" => Some(Preset::ByolCifar),
            _ => None,
        }
    }

    /// The two views' configurations.
    pub fn views(self) -> (ViewConfig, ViewConfig) {
        match self {
            Preset::Byol => (ViewConfig::byol_view1_transform(), ViewConfig::byol_view2_transform()),
            Preset::ByolCifar => {
                let cifar = |v: ViewConfig| ViewConfig { input_size: 32, gaussian_blur: 0.0, ..v };
                (cifar(ViewConfig::byol_view1_transform()), cifar(ViewConfig::byol_view2_transform()))
            }
        }
    }
}

/// Element type of the augmented views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputType {
    Float32,
    BFloat16,
}

/// Both views and the output type. The views are `view0` and `view1`, 0-based as Lightly's `x0`
/// and `x1`; `view0` is made by Lightly's `BYOLView1Transform`, `view1` by `BYOLView2Transform`.
#[derive(Debug, Clone, PartialEq)]
pub struct AugmentConfig {
    pub view0: ViewConfig,
    pub view1: ViewConfig,
    pub output: OutputType,
}

impl AugmentConfig {
    pub fn preset(preset: Preset) -> AugmentConfig {
        let (view0, view1) = preset.views();
        AugmentConfig { view0, view1, output: OutputType::Float32 }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.view0.validate("view0")?;
        self.view1.validate("view1")
    }
}

/// Which JavaScript error class a configuration error becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// A value of the right type outside its allowed range (`RangeError`).
    Range,
    /// A value of the wrong type (`TypeError`).
    Type,
}

/// A rejected configuration: the field's path and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub kind: ConfigErrorKind,
    pub field: String,
    pub message: String,
}

impl ConfigError {
    pub fn range(field: String, message: String) -> ConfigError {
        ConfigError { kind: ConfigErrorKind::Range, field, message }
    }

    pub fn type_error(field: String, message: String) -> ConfigError {
        ConfigError { kind: ConfigErrorKind::Type, field, message }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for torch::TorchError {
    fn from(e: ConfigError) -> Self {
        torch::TorchError::new(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_follow_lightly() {
        let (v0, v1) = Preset::Byol.views();
        assert_eq!((v0.input_size, v0.gaussian_blur, v0.solarization_prob), (224, 1.0, 0.0));
        assert_eq!((v1.input_size, v1.gaussian_blur, v1.solarization_prob), (224, 0.1, 0.2));
        let (c0, c1) = Preset::ByolCifar.views();
        assert_eq!((c0.input_size, c0.gaussian_blur, c1.gaussian_blur, c1.solarization_prob), (32, 0.0, 0.0, 0.2));
        assert!(AugmentConfig::preset(Preset::Byol).validate().is_ok());
    }

    #[test]
    fn validation_names_the_field() {
        let bad = ViewConfig { sigmas: (2.0, 0.1), ..ViewConfig::byol_view1_transform() };
        assert_eq!(bad.validate("view0").unwrap_err().field, "view0.sigmas");
        let bad = ViewConfig { min_scale: 0.0, ..ViewConfig::byol_view1_transform() };
        assert_eq!(bad.validate("view1").unwrap_err().field, "view1.minScale");
        let bad = ViewConfig { hf_prob: 1.5, ..ViewConfig::byol_view1_transform() };
        assert_eq!(bad.validate("v").unwrap_err().field, "v.hfProb");
    }
}
