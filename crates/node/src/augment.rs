//! BYOL's view augmentations as seen from JavaScript: an augmenter handle (an External holding
//! the native `Augmenter`, so that a training step can use it natively), its views, its random
//! state, and a test entry point that applies one transform on given parameters.
use crate::host::HostTensor;
use crate::js::{Env, Handle, JsError, JsResult, Value};
use crate::options::Options;
use crate::task::{finish, lock, spawn};
use byol::augment::config::NUMBER_FIELDS;
use byol::augment::random_resized_crop::CropBoxes;
use byol::augment::{
    apply_op, AugmentConfig, AugmentError, Augmenter, ConfigErrorKind, Normalize, Op, OutputType, Preset, ViewConfig,
    ViewParams,
};
use std::sync::{Arc, Mutex};
use torch::{Device, ImageLayout, Kind, Tensor};

/// What a JavaScript augmenter handle holds. Calls on one augmenter are serialised by the mutex
/// (they share its generator), on the compute thread.
pub(crate) struct AugmenterHandle {
    pub(crate) device: Device,
    pub(crate) augmenter: Arc<Mutex<Augmenter>>,
}

/// The augmenter behind a handle made by `augmenterCreate` (for other bindings, such as a
/// training step that augments natively).
pub(crate) fn handle<'a>(env: &'a Env, value: Value, name: &str) -> JsResult<&'a AugmenterHandle> {
    env.handle(value, name)
}

impl Handle for AugmenterHandle {
    const KIND: &'static str = "an augmenter handle returned by augmenterCreate";
    const TAG: u64 = 0x6279_6f6c_6175_676d; // "byolaugm"
}

/// An options object's raw fields, for what `Options` does not read (arrays, nested objects).
struct Raw<'a> {
    env: &'a Env,
    object: Option<Value>,
    path: String,
}

impl<'a> Raw<'a> {
    fn new(env: &'a Env, value: Value, path: &str) -> JsResult<Raw<'a>> {
        let object = if env.is_nullish(value)? { None } else { Some(env.to_object(value, path)?) };
        Ok(Raw { env, object, path: path.to_string() })
    }

    fn path(&self, key: &str) -> String {
        format!("{}.{}", self.path, key)
    }

    /// The field's value, `None` when absent or undefined (null is kept: it can mean "off").
    fn get(&self, key: &str) -> JsResult<Option<Value>> {
        let Some(o) = self.object else { return Ok(None) };
        let v = self.env.get(o, key)?;
        Ok(if v.is_null() || self.env.type_of(v)? == crate::napi::NAPI_UNDEFINED { None } else { Some(v) })
    }

    fn is_null(&self, v: Value) -> JsResult<bool> {
        Ok(self.env.type_of(v)? == crate::napi::NAPI_NULL)
    }

    /// A list of `len` numbers (or any length when `len` is 0).
    fn numbers(&self, v: Value, key: &str, len: usize) -> JsResult<Vec<f64>> {
        let path = self.path(key);
        let items = self.env.array_items(v, &path)?;
        if len > 0 && items.len() != len {
            return Err(JsError::range_error(format!("{path} must hold {len} numbers, got {}", items.len())));
        }
        items.into_iter().enumerate().map(|(i, x)| self.env.to_number(x, &format!("{path}[{i}]"))).collect()
    }
}

/// The fields of a view besides [`NUMBER_FIELDS`].
const OTHER_FIELDS: [&str; 4] = ["inputSize", "sigmas", "rrDegrees", "normalize"];

/// Applies the overrides of one options object (top level or `view1`/`view2`) to a view.
fn override_view(env: &Env, value: Value, path: &str, v: &mut ViewConfig) -> JsResult<()> {
    let o = Options::new(env, value, path)?;
    let raw = Raw::new(env, value, path)?;
    v.input_size = o.integer("inputSize", v.input_size, 1, 8192)?;
    for (name, bound) in NUMBER_FIELDS {
        if let Some(x) = o.optional_number(name, f64::NEG_INFINITY, f64::INFINITY)? {
            bound.check(x).map_err(|message| JsError::range_error(format!("{path}.{name} {message}")))?;
            *v.number_mut(name).expect("a listed field") = x;
        }
    }
    if let Some(s) = raw.get("sigmas")? {
        let s = raw.numbers(s, "sigmas", 2)?;
        v.sigmas = (s[0], s[1]);
    }
    if let Some(d) = raw.get("rrDegrees")? {
        v.rr_degrees = if env.type_of(d)? == crate::napi::NAPI_NUMBER {
            // torchvision's RandomRotation(degrees=d): [-d, d]
            let d = env.to_number(d, &raw.path("rrDegrees"))?.abs();
            Some((-d, d))
        } else {
            let d = raw.numbers(d, "rrDegrees", 2)?;
            Some((d[0], d[1]))
        };
    }
    if let Some(n) = raw.get("normalize")? {
        v.normalize = if env.type_of(n)? == crate::napi::NAPI_BOOLEAN {
            // false: no normalisation (Lightly's normalize=None); true: ImageNet's
            if env.to_bool(n, &raw.path("normalize"))? {
                Some(byol::augment::IMAGENET_NORMALIZE)
            } else {
                None
            }
        } else {
            let inner = Raw::new(env, n, &raw.path("normalize"))?;
            let field = |key: &str| -> JsResult<[f64; 3]> {
                let value = inner
                    .get(key)?
                    .ok_or_else(|| JsError::type_error(format!("{} is required (3 numbers)", inner.path(key))))?;
                let x = inner.numbers(value, key, 3)?;
                Ok([x[0], x[1], x[2]])
            };
            Some(Normalize { mean: field("mean")?, std: field("std")? })
        };
    }
    Ok(())
}

/// Reads `augmenterCreate`'s options: `preset`, top-level view fields (both views), `view1` and
/// `view2` (one view each), `dtype`; validates the result, naming the field on error.
pub(crate) fn parse_config(env: &Env, value: Value) -> JsResult<AugmentConfig> {
    let o = Options::new(env, value, "options")?;
    let preset = o.choice("preset", "byol", &Preset::NAMES)?;
    let mut config = AugmentConfig::preset(Preset::parse(&preset).expect("a listed preset"));
    override_view(env, value, "options", &mut config.view0)?;
    override_view(env, value, "options", &mut config.view1)?;
    let raw = Raw::new(env, value, "options")?;
    // The options name a view by the Lightly transform that makes it (`BYOLView1Transform` makes
    // view0), so they are one ahead of the views' names.
    for (key, view) in [("view1", &mut config.view0), ("view2", &mut config.view1)] {
        if let Some(v) = raw.get(key)? {
            if raw.is_null(v)? {
                continue;
            }
            // Catch misspelt fields: they would otherwise be ignored silently.
            let sub = Raw::new(env, v, &raw.path(key))?;
            reject_unknown(env, &sub)?;
            override_view(env, v, &raw.path(key), view)?;
        }
    }
    config.output = match o.choice("dtype", "float32", &["float32", "bfloat16"])?.as_str() {
        "bfloat16" => OutputType::BFloat16,
        _ => OutputType::Float32,
    };
    config.view0.validate("options.view1").and_then(|_| config.view1.validate("options.view2")).map_err(|e| {
        let message = e.to_string();
        match e.kind {
            ConfigErrorKind::Range => JsError::range_error(message),
            ConfigErrorKind::Type => JsError::type_error(message),
        }
    })?;
    Ok(config)
}

fn reject_unknown(env: &Env, raw: &Raw) -> JsResult<()> {
    let Some(object) = raw.object else { return Ok(()) };
    let keys = env.own_keys(object)?;
    let known: Vec<&str> = OTHER_FIELDS.iter().copied().chain(NUMBER_FIELDS.iter().map(|(name, _)| *name)).collect();
    for key in keys {
        if !known.contains(&key.as_str()) {
            return Err(JsError::type_error(format!(
                "{} is not an augmentation field (expected one of {})",
                raw.path(&key),
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// A float32 CPU tensor as `{ data: Float32Array, shape }` without copying: the array is the
/// tensor's own memory, which it keeps alive until the array is garbage-collected. Other tensors
/// (bfloat16, CUDA, strided) are copied to the host.
fn tensor_to_js(env: &Env, t: Tensor) -> JsResult<Value> {
    let shape = t.shape()?;
    let zero_copy = t.kind()? == Kind::Float && t.device()? == Device::Cpu;
    let data = if zero_copy { t.contiguous_data_ptr()? } else { None };
    let Some(data) = data.filter(|_| shape.iter().product::<i64>() > 0) else {
        return HostTensor::from_tensor(&t)?.to_js(env);
    };
    let elements = shape.iter().product::<i64>() as usize;
    let Some(array) = env.external_float32_array(t.alias()?, data, elements)? else {
        // e.g. a runtime that forbids external buffers: copy instead
        return HostTensor::from_tensor(&t)?.to_js(env);
    };
    let object = env.object()?;
    env.set(object, "data", array)?;
    let dims: Vec<Value> = shape.iter().map(|&d| env.number(d as f64)).collect::<JsResult<_>>()?;
    env.set(object, "shape", env.array(&dims)?)?;
    Ok(object)
}

fn view_json(env: &Env, v: &ViewConfig) -> JsResult<Value> {
    let o = env.object()?;
    let num = |key: &str, x: f64| env.set(o, key, env.number(x)?);
    num("inputSize", v.input_size as f64)?;
    for (name, _) in NUMBER_FIELDS {
        num(name, v.number(name).expect("a listed field"))?;
    }
    env.set(o, "sigmas", env.array(&[env.number(v.sigmas.0)?, env.number(v.sigmas.1)?])?)?;
    let degrees = match v.rr_degrees {
        None => env.null()?,
        Some((a, b)) => env.array(&[env.number(a)?, env.number(b)?])?,
    };
    env.set(o, "rrDegrees", degrees)?;
    let normalize = match &v.normalize {
        None => env.boolean(false)?,
        Some(n) => {
            let x = env.object()?;
            let three = |a: &[f64; 3]| -> JsResult<Value> {
                env.array(&[env.number(a[0])?, env.number(a[1])?, env.number(a[2])?])
            };
            env.set(x, "mean", three(&n.mean)?)?;
            env.set(x, "std", three(&n.std)?)?;
            x
        }
    };
    env.set(o, "normalize", normalize)?;
    Ok(o)
}

fn config_json(env: &Env, config: &AugmentConfig) -> JsResult<Value> {
    let o = env.object()?;
    env.set(o, "view1", view_json(env, &config.view0)?)?;
    env.set(o, "view2", view_json(env, &config.view1)?)?;
    let dtype = if config.output == OutputType::BFloat16 { "bfloat16" } else { "float32" };
    env.set(o, "dtype", env.string(dtype)?)?;
    Ok(o)
}

/// `augmentResolveOptions(options) -> { view1, view2, dtype }`: the configuration a preset and
/// overrides give (validated, synchronously).
pub fn resolve(env: &Env, args: &[Value]) -> JsResult<Value> {
    config_json(env, &parse_config(env, args[0])?)
}

/// `augmenterCreate(options) -> Promise<AugmenterHandle>`; `options.seed` (default 0),
/// `options.device` (default cpu), `options.cudaSyncCheck` (a diagnostic for tests: on CUDA,
/// views fail if anything in them makes the host wait for the device) and `options.cpuGrouping`
/// (default true; false runs every jitter stage on every image on CPU too, as CUDA does)
/// besides the configuration.
pub fn create(env: &Env, args: &[Value]) -> JsResult<Value> {
    let config = parse_config(env, args[0])?;
    let o = Options::new(env, args[0], "options")?;
    let seed = o.integer("seed", 0, 0, 1 << 53)? as u64;
    let device = crate::config::device(&o.string("device", "cpu")?)?;
    let cuda_sync_check = o.boolean("cudaSyncCheck", false)?;
    let cpu_grouping = o.boolean("cpuGrouping", true)?;
    spawn(env, "byol.augmenterCreate", move || {
        let mut augmenter = Augmenter::new(config, seed, device).map_err(|e| match e {
            AugmentError::Config(c) => JsError::range_error(c.to_string()),
            AugmentError::Torch(t) => JsError::from(t),
        })?;
        augmenter.cuda_sync_check = cuda_sync_check;
        augmenter.cpu_grouping = cpu_grouping;
        finish(move |env| env.external(AugmenterHandle { device, augmenter: Arc::new(Mutex::new(augmenter)) }))
    })
}

fn layout(env: &Env, value: Value) -> JsResult<ImageLayout> {
    let o = Options::new(env, value, "options")?;
    Ok(match o.choice("layout", "nhwc", &["nhwc", "nchw"])?.as_str() {
        "nchw" => ImageLayout::Nchw,
        _ => ImageLayout::Nhwc,
    })
}

fn image_batch(env: &Env, value: Value, layout: ImageLayout) -> JsResult<HostTensor> {
    let t = HostTensor::from_js_of(env, value, "images", Kind::Uint8)?;
    let channels = if layout == ImageLayout::Nhwc { t.shape.get(3) } else { t.shape.get(1) };
    if t.shape.len() != 4 || channels != Some(&3) {
        let expected = if layout == ImageLayout::Nhwc { "[N, H, W, 3]" } else { "[N, 3, H, W]" };
        return Err(JsError::range_error(format!(
            "images: expected shape {expected} for layout {layout:?}, got {:?}",
            t.shape
        )));
    }
    if t.shape.contains(&0) {
        return Err(JsError::range_error(format!("images: every dimension must be positive, got {:?}", t.shape)));
    }
    Ok(t)
}

/// `augmenterViews(augmenter, images, { layout }) -> Promise<{ view0, view1 }>`: uint8 images
/// (`Uint8Array`, `[N, H, W, 3]` or `[N, 3, H, W]`) to the two normalised views `[N, 3, S, S]`
/// (float32; bfloat16 views come back as float32).
pub fn views(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = handle(env, args[0], "augmenter")?;
    let layout = layout(env, args[2])?;
    let images = image_batch(env, args[1], layout)?;
    let (augmenter, device) = (h.augmenter.clone(), h.device);
    spawn(env, "byol.augmenterViews", move || {
        let (v0, v1) = lock(&augmenter).views(&images.to_tensor(device)?, layout)?;
        // CUDA and bfloat16 views come to the host here, off the JavaScript thread
        let to_host = |t: Tensor| -> torch::Result<Tensor> {
            if t.kind()? == Kind::Float && t.device()? == Device::Cpu {
                Ok(t)
            } else {
                t.to(Kind::Float, Device::Cpu)
            }
        };
        let (v0, v1) = (to_host(v0)?, to_host(v1)?);
        finish(move |env| {
            let o = env.object()?;
            env.set(o, "view0", tensor_to_js(env, v0)?)?;
            env.set(o, "view1", tensor_to_js(env, v1)?)?;
            Ok(o)
        })
    })
}

/// A view's parameters on the host, as named arrays of `[N]` (order: `[N, 4]`).
fn params_host(p: &ViewParams) -> torch::Result<Vec<(&'static str, HostTensor)>> {
    let f = |t: &Tensor| HostTensor::from_tensor(&t.to_kind(Kind::Float)?);
    let j = &p.jitter;
    let col = |i: i64| f(&j.factors.narrow(1, i, 1)?.reshape(&[-1])?);
    Ok(vec![
        ("top", f(&p.boxes.top)?),
        ("left", f(&p.boxes.left)?),
        ("height", f(&p.boxes.height)?),
        ("width", f(&p.boxes.width)?),
        ("rotate", f(&p.rotate)?),
        ("angle", f(&p.angle)?),
        ("hflip", f(&p.hflip)?),
        ("vflip", f(&p.vflip)?),
        ("jitter", f(&j.apply)?),
        ("brightness", col(0)?),
        ("contrast", col(1)?),
        ("saturation", col(2)?),
        ("hue", col(3)?),
        ("order", f(&j.order)?),
        ("grayscale", f(&p.grayscale)?),
        ("blurSigma", f(&p.blur_sigma)?),
        ("solarize", f(&p.solarize)?),
    ])
}

/// `augmenterParams(augmenter, n, height, width) -> Promise<{ view1, view2 }>`: the random
/// parameters `augmenterViews` would draw next for `n` images of `height x width` (advancing the
/// generator the same way): crop boxes, flags and jitter factors per image.
pub fn params(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = handle(env, args[0], "augmenter")?;
    let count = |i: usize, name: &str, max: f64| -> JsResult<i64> {
        let x = env.to_number(args[i], name)?;
        if !(1.0..=max).contains(&x) || x.fract() != 0.0 {
            return Err(JsError::range_error(format!("{name} must be an integer in [1, {max}], got {x}")));
        }
        Ok(x as i64)
    };
    let (n, height, width) = (count(1, "n", 1e7)?, count(2, "height", 65536.0)?, count(3, "width", 65536.0)?);
    let augmenter = h.augmenter.clone();
    spawn(env, "byol.augmenterParams", move || {
        let a = lock(&augmenter);
        let (p0, p1) = a.draw(n, height, width)?;
        let (p0, p1) = (params_host(&p0)?, params_host(&p1)?);
        finish(move |env| {
            let out = env.object()?;
            // named by the options' names of the two views (see parse_config)
            for (name, p) in [("view1", p0), ("view2", p1)] {
                let o = env.object()?;
                for (key, t) in &p {
                    env.set(o, key, t.to_js(env)?)?;
                }
                env.set(out, name, o)?;
            }
            Ok(out)
        })
    })
}

/// `augmenterState(augmenter) -> Promise<{ data: Uint8Array, shape }>`: the generator's state.
pub fn state(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = handle(env, args[0], "augmenter")?;
    let augmenter = h.augmenter.clone();
    spawn(env, "byol.augmenterState", move || {
        let s = HostTensor::from_tensor(&lock(&augmenter).state()?)?;
        finish(move |env| s.to_js(env))
    })
}

/// `augmenterSetState(augmenter, state) -> Promise<void>`: restores a state from `augmenterState`.
pub fn set_state(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = handle(env, args[0], "augmenter")?;
    let s = HostTensor::from_js_of(env, args[1], "state", Kind::Uint8)?;
    if s.shape.len() != 1 {
        return Err(JsError::range_error(format!("state: expected a 1-d tensor, got shape {:?}", s.shape)));
    }
    let augmenter = h.augmenter.clone();
    spawn(env, "byol.augmenterSetState", move || {
        lock(&augmenter).set_state(&s.to_tensor(Device::Cpu)?)?;
        finish(|env| env.undefined())
    })
}

/// `augmentOp(name, images, params, { device }) -> Promise<Tensor>`: a TEST ENTRY POINT. Applies
/// one transform of the pipeline to float32 images `[N, 3, H, W]` in `[0, 1]` on `device` (default
/// cpu), with
/// per-image parameters given as arrays of `N` numbers:
/// `resized_crop {top, left, height, width, size}`, `hflip|vflip|rotate90|grayscale {flag}`,
/// `rotate {degrees}`, `brightness|contrast|saturation|hue {factor}`,
/// `color_jitter {factors: 4N, order: 4N}`, `gaussian_blur {sigma}`, `solarize {flag, threshold?}`,
/// `normalize {mean: 3, std: 3}`.
pub fn op(env: &Env, args: &[Value]) -> JsResult<Value> {
    let name = env.to_string(args[0], "name")?;
    if !Op::NAMES.contains(&name.as_str()) {
        return Err(JsError::range_error(format!("name must be one of {}, got '{name}'", Op::NAMES.join(", "))));
    }
    let images = HostTensor::from_js_of(env, args[1], "images", Kind::Float)?;
    if images.shape.len() != 4 || images.shape[1] != 3 {
        return Err(JsError::range_error(format!("images: expected shape [N, 3, H, W], got {:?}", images.shape)));
    }
    let n = images.shape[0] as usize;
    let raw = Raw::new(env, args[2], "params")?;
    let read = |key: &str, len: usize| -> JsResult<Vec<f64>> {
        let v = raw.get(key)?.ok_or_else(|| JsError::type_error(format!("{} is required", raw.path(key))))?;
        raw.numbers(v, key, len)
    };
    let o = Options::new(env, args[2], "params")?;
    let device = crate::config::device(&Options::new(env, args[3], "options")?.string("device", "cpu")?)?;
    enum Spec {
        Crop([Vec<f64>; 4], i64),
        PerImage(Vec<f64>),
        Jitter(Vec<f64>, Vec<f64>),
        Solarize(Vec<f64>, f64),
        Normalize(Normalize),
    }
    let spec = match name.as_str() {
        "resized_crop" => Spec::Crop(
            [read("top", n)?, read("left", n)?, read("height", n)?, read("width", n)?],
            o.integer("size", 0, 1, 8192)?,
        ),
        "hflip" | "vflip" | "rotate90" | "grayscale" => Spec::PerImage(read("flag", n)?),
        "rotate" => Spec::PerImage(read("degrees", n)?),
        "brightness" | "contrast" | "saturation" | "hue" => Spec::PerImage(read("factor", n)?),
        "gaussian_blur" => Spec::PerImage(read("sigma", n)?),
        "color_jitter" => Spec::Jitter(read("factors", 4 * n)?, read("order", 4 * n)?),
        "solarize" => Spec::Solarize(read("flag", n)?, o.number("threshold", 128.0 / 255.0, 0.0, 1.0)?),
        _ => {
            let (m, s) = (read("mean", 3)?, read("std", 3)?);
            Spec::Normalize(Normalize { mean: [m[0], m[1], m[2]], std: [s[0], s[1], s[2]] })
        }
    };
    spawn(env, "byol.augmentOp", move || {
        let x = images.to_tensor(device)?;
        let n = n as i64;
        let vector = |v: &[f64]| -> torch::Result<Tensor> {
            let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            Tensor::from_f32(&v, &[v.len() as i64], device)
        };
        let doubles = |v: &[f64]| -> torch::Result<Tensor> {
            let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            Tensor::from_bytes(&bytes, Kind::Double, &[v.len() as i64], device)
        };
        let op = match spec {
            Spec::Crop([t, l, h, w], size) => Op::ResizedCrop {
                boxes: CropBoxes { top: doubles(&t)?, left: doubles(&l)?, height: doubles(&h)?, width: doubles(&w)? },
                size,
            },
            Spec::PerImage(v) => {
                let t = vector(&v)?;
                match name.as_str() {
                    "hflip" => Op::HorizontalFlip(t),
                    "vflip" => Op::VerticalFlip(t),
                    "rotate90" => Op::Rotate90(t),
                    "grayscale" => Op::Grayscale(t),
                    "rotate" => Op::Rotate(t),
                    "brightness" => Op::Brightness(t),
                    "contrast" => Op::Contrast(t),
                    "saturation" => Op::Saturation(t),
                    "hue" => Op::Hue(t),
                    _ => Op::GaussianBlur(doubles(&v)?),
                }
            }
            Spec::Jitter(f, order) => {
                let order: Vec<i64> = order.iter().map(|&x| x as i64).collect();
                Op::ColorJitter {
                    factors: vector(&f)?.reshape(&[n, 4])?,
                    order: Tensor::from_i64(&order, &[n, 4], device)?,
                }
            }
            Spec::Solarize(flag, threshold) => Op::Solarize { flag: vector(&flag)?, threshold },
            Spec::Normalize(n) => Op::Normalize(n),
        };
        let out = HostTensor::from_tensor(&apply_op(&x, &op)?)?;
        finish(move |env| out.to_js(env))
    })
}
