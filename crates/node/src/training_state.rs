//! The optimizer state a checkpoint keeps besides the weights (the steps run in trainer.rs).
use crate::host::HostTensor;
use crate::js::{Env, JsResult, Value};
use crate::model;
use crate::options::Options;
use crate::task::{finish, lock, spawn};
use torch::{Device, Kind};

/// `byolTrainingState(model) -> Promise<{ steps, lr, momentumBuffers: Tensor[] | null }>`: the
/// optimizer state a checkpoint needs besides the weights.
pub fn training_state(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = model::handle(env, args[0])?;
    let t = h.training.clone();
    spawn(env, "byol.trainingState", move || {
        let training = lock(&t);
        let steps = training.steps();
        let lr = training.optimizer().lr();
        let buffers = match training.optimizer().momentum_buffers() {
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
    let t = h.training.clone();
    spawn(env, "byol.loadTrainingState", move || {
        let mut training = lock(&t);
        if let Some(bs) = buffers {
            let tensors = bs.iter().map(|b| b.to_tensor(Device::Cpu)).collect::<torch::Result<Vec<_>>>()?;
            training.optimizer_mut().set_momentum_buffers(tensors)?;
        }
        if let Some(lr) = lr {
            training.optimizer_mut().set_lr(lr);
        }
        training.set_steps(steps);
        finish(|env| env.undefined())
    })
}
