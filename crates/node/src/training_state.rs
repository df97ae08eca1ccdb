//! The native half of a training step: a batch is gathered (on the dataset's device), augmented
//! into two views and kept native until a step consumes it, so that JavaScript only orchestrates.
use crate::augment;
use crate::dataset;
use crate::host::HostTensor;
use crate::js::{Env, JsError, JsResult, Value};
use crate::model;
use crate::options::Options;
use crate::task::{spawn, Finish};
use byol::augment::InputLayout;
use byol::dataset::normalize_images;
use std::sync::Mutex;
use torch::{Device, Kind, Tensor};

const TAG: u64 = 0x6279_6f6c_6261_7463; // "byolbatc"

/// Two views of one batch, on the training device, waiting for a step.
#[repr(C)]
struct BatchHandle {
    tag: u64,
    size: i64,
    views: Mutex<Option<(Tensor, Tensor)>>,
}

fn batch_handle<'a>(env: &'a Env, value: Value) -> JsResult<&'a BatchHandle> {
    let h: &BatchHandle =
        env.external_ref(value, "batch").map_err(|_| JsError::type_error("batch must be a handle returned by batchPrepare"))?;
    if h.tag != TAG {
        return Err(JsError::type_error("batch must be a handle returned by batchPrepare"));
    }
    Ok(h)
}

fn finish(value: impl FnOnce(&Env) -> JsResult<Value> + Send + 'static) -> JsResult<Finish> {
    Ok(Box::new(value))
}

/// `batchPrepare(dataset, indices, augmenter | null, { device }) -> Promise<BatchHandle>`: gathers
/// the images at `indices` (on the dataset's device), moves them to the augmenter's device and
/// makes the two views there. Without an augmenter both views are the normalised images
/// themselves, on `device` (for tests and diagnostics).
pub fn prepare(env: &Env, args: &[Value]) -> JsResult<Value> {
    let d = dataset::handle(env, args[0], "dataset")?;
    let indices = dataset::indices_arg(env, args[1], "indices")?;
    if indices.len() < 2 {
        return Err(JsError::range_error(format!("a training batch needs at least 2 images, got {}", indices.len())));
    }
    let augmenter = if env.is_nullish(args[2])? { None } else { Some(augment::handle(env, args[2], "augmenter")?.augmenter.clone()) };
    let o = Options::new(env, args[3], "options")?;
    let device = crate::config::device(&o.string("device", &d.device.to_string())?)?;
    let ds = d.dataset.clone();
    spawn(env, "byol.batchPrepare", move || {
        let images = dataset::lock(&ds).gather(&indices)?;
        let (view0, view1) = match augmenter {
            Some(a) => {
                let a = augment::lock(&a);
                a.views(&images.to_device(a.device())?, InputLayout::Nhwc)?
            }
            None => {
                let view = normalize_images(&images.to_device(device)?)?;
                (view.alias()?, view)
            }
        };
        let size = indices.len() as i64;
        finish(move |env| env.external(BatchHandle { tag: TAG, size, views: Mutex::new(Some((view0, view1))) }))
    })
}

/// `byolTrainStep(model, batch, { momentum, lr? }) -> Promise<number>`: one BYOL step on a
/// prepared batch (consumed), resolving to the loss.
pub fn step(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = model::handle(env, args[0])?;
    let b = batch_handle(env, args[1])?;
    let views = b
        .views
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .ok_or_else(|| JsError::error(format!("this batch of {} images was already used by a step", b.size)))?;
    let o = Options::new(env, args[2], "options")?;
    let momentum = o.required_number("momentum", 0.0, 1.0)?;
    let lr = o.optional_number("lr", 0.0, f64::MAX)?;
    let m = h.model.clone();
    spawn(env, "byol.trainStep", move || {
        let mut model = model::lock(&m);
        if let Some(lr) = lr {
            model.optimizer_mut().set_lr(lr);
        }
        let (view0, view1) = views;
        let loss = model.step(&view0, &view1, momentum)?.item()?;
        finish(move |env| env.number(loss))
    })
}

/// `byolTrainingState(model) -> Promise<{ steps, lr, momentumBuffers: Tensor[] | null }>`: the
/// optimizer state a checkpoint needs besides the weights.
pub fn training_state(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = model::handle(env, args[0])?;
    let m = h.model.clone();
    spawn(env, "byol.trainingState", move || {
        let model = model::lock(&m);
        let steps = model.steps();
        let lr = model.optimizer().lr();
        let buffers = match model.optimizer().momentum_buffers() {
            None => None,
            Some(bs) => Some(bs.iter().map(HostTensor::from_tensor).collect::<torch::Result<Vec<_>>>()?),
        };
        finish(move |env| {
            let o = env.object()?;
            env.set(o, "steps", env.number(steps as f64)?)?;
            env.set(o, "lr", env.number(lr)?)?;
            let b = match &buffers {
                None => env.undefined()?,
                Some(bs) => env.array(&bs.iter().map(|b| b.to_js(env)).collect::<JsResult<Vec<_>>>()?)?,
            };
            env.set(o, "momentumBuffers", b)?;
            Ok(o)
        })
    })
}

/// `byolLoadTrainingState(model, { steps, lr?, momentumBuffers })`: restores what
/// `byolTrainingState` returned.
pub fn load_training_state(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = model::handle(env, args[0])?;
    let o = Options::new(env, args[1], "state")?;
    let steps = o.integer("steps", 0, 0, 1 << 53)? as u64;
    let lr = o.optional_number("lr", 0.0, f64::MAX)?;
    let object = env.to_object(args[1], "state")?;
    let raw = env.get(object, "momentumBuffers")?;
    let buffers = if env.is_nullish(raw)? {
        None
    } else {
        let items = env.array_items(raw, "state.momentumBuffers")?;
        Some(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| HostTensor::from_js_of(env, v, &format!("state.momentumBuffers[{i}]"), Kind::Float))
                .collect::<JsResult<Vec<_>>>()?,
        )
    };
    let m = h.model.clone();
    spawn(env, "byol.loadTrainingState", move || {
        let mut model = model::lock(&m);
        if let Some(bs) = buffers {
            let tensors = bs.iter().map(|b| b.to_tensor(Device::Cpu)).collect::<torch::Result<Vec<_>>>()?;
            model.optimizer_mut().set_momentum_buffers(tensors)?;
        }
        if let Some(lr) = lr {
            model.optimizer_mut().set_lr(lr);
        }
        model.set_steps(steps);
        finish(|env| env.undefined())
    })
}
