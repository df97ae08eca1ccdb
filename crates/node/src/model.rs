//! The BYOL model as seen from JavaScript: a handle plus functions that run on the compute thread.
use crate::host::HostTensor;
use crate::js::{Env, Handle, JsError, JsResult, Value};
use crate::options::Options;
use crate::task::{finish, lock, spawn};
use byol::{Byol, Network, Part, TrainStep};
use std::sync::{Arc, Mutex};
use torch::nn::Mode;
use torch::{Device, Kind, Role, Tensor};

/// What a JavaScript model handle (an External) holds: the model with what trains it. Calls on
/// one model are serialised by the mutex; they wait on the compute thread, never on the
/// JavaScript thread.
pub(crate) struct ModelHandle {
    pub(crate) device: Device,
    pub(crate) training: Arc<Mutex<TrainStep>>,
}

impl Handle for ModelHandle {
    const KIND: &'static str = "a model handle returned by byolCreate";
    const TAG: u64 = 0x6279_6f6c_6d6f_646c; // "byolmodl"
}

pub(crate) fn handle(env: &Env, value: Value) -> JsResult<&ModelHandle> {
    env.handle(value, "model")
}

/// `byolCreate(options) -> Promise<ModelHandle>`
pub fn create(env: &Env, args: &[Value]) -> JsResult<Value> {
    let config = crate::config::parse(env, args[0])?;
    spawn(env, "byol.create", move || {
        let device = config.device;
        let training = TrainStep::new(Byol::new(config)?)?;
        finish(move |env| env.external(ModelHandle { device, training: Arc::new(Mutex::new(training)) }))
    })
}

fn image_batch(env: &Env, value: Value, name: &str) -> JsResult<HostTensor> {
    let t = HostTensor::from_js_of(env, value, name, Kind::Float)?;
    if t.shape.len() != 4 || t.shape[1] != 3 {
        return Err(JsError::range_error(format!("{name}: expected shape [N, 3, H, W], got {:?}", t.shape)));
    }
    Ok(t)
}

fn momentum_arg(env: &Env, value: Value, name: &str) -> JsResult<f64> {
    let m = env.to_number(value, name)?;
    if !(0.0..=1.0).contains(&m) {
        return Err(JsError::range_error(format!("{name} must be in [0, 1], got {m}")));
    }
    Ok(m)
}

/// `byolStep(model, view0, view1, { momentum, lr? }) -> Promise<number>` (the loss).
pub fn step(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = handle(env, args[0])?;
    let view0 = image_batch(env, args[1], "view0")?;
    let view1 = image_batch(env, args[2], "view1")?;
    if view0.shape != view1.shape {
        return Err(JsError::range_error(format!(
            "view0 and view1 must have the same shape, got {:?} and {:?}",
            view0.shape, view1.shape
        )));
    }
    let o = Options::new(env, args[3], "options")?;
    let momentum = o.required_number("momentum", 0.0, 1.0)?;
    let lr = o.optional_number("lr", 0.0, f64::MAX)?;
    let (training, device) = (h.training.clone(), h.device);
    spawn(env, "byol.step", move || {
        let mut training = lock(&training);
        if let Some(lr) = lr {
            training.optimizer_mut().set_lr(lr);
        }
        let loss = training.step(&view0.to_tensor(device)?, &view1.to_tensor(device)?, momentum)?.item()?;
        finish(move |env| env.number(loss))
    })
}

/// `byolDevice(model) -> string`: where the model lives (`cpu`, `cuda:0`, ...).
pub fn device(env: &Env, args: &[Value]) -> JsResult<Value> {
    env.string(&handle(env, args[0])?.device.to_string())
}

/// `byolUpdateTarget(model, momentum) -> Promise<void>`
pub fn update_target(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = handle(env, args[0])?;
    let momentum = momentum_arg(env, args[1], "momentum")?;
    let training = h.training.clone();
    spawn(env, "byol.updateTarget", move || {
        lock(&training).update_target(momentum)?;
        finish(|env| env.undefined())
    })
}

fn network(env: &Env, value: Value) -> JsResult<Network> {
    match env.to_string(value, "network")?.as_str() {
        "online" => Ok(Network::Online),
        "target" => Ok(Network::Target),
        other => Err(JsError::range_error(format!("network must be 'online' or 'target', got '{other}'"))),
    }
}

/// `byolForward(model, network, part, input, train) -> Promise<Tensor>`
pub fn forward(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = handle(env, args[0])?;
    let network = network(env, args[1])?;
    let part = match env.to_string(args[2], "part")?.as_str() {
        "backbone" => Part::Backbone,
        "projection" => Part::Projection,
        "prediction" => Part::Prediction,
        other => {
            return Err(JsError::range_error(format!(
                "part must be 'backbone', 'projection' or 'prediction', got '{other}'"
            )))
        }
    };
    let input = match part {
        Part::Backbone => image_batch(env, args[3], "input")?,
        _ => HostTensor::from_js_of(env, args[3], "input", Kind::Float)?,
    };
    let mode = if env.to_bool(args[4], "train")? { Mode::Train } else { Mode::Eval };
    let (training, device) = (h.training.clone(), h.device);
    spawn(env, "byol.forward", move || {
        let training = lock(&training);
        let out =
            HostTensor::from_tensor(&training.model().forward(network, part, &input.to_tensor(device)?, mode)?)?;
        finish(move |env| out.to_js(env))
    })
}

/// `byolState(model, network) -> Promise<Array<{ name, role, data, shape }>>`: every parameter
/// and buffer, in the model's order.
pub fn state(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = handle(env, args[0])?;
    let network = network(env, args[1])?;
    let training = h.training.clone();
    spawn(env, "byol.state", move || {
        let training = lock(&training);
        let entries: Vec<(String, Role, HostTensor)> = training
            .model()
            .store(network)
            .entries()
            .iter()
            .map(|e| Ok((e.name.clone(), e.role, HostTensor::from_tensor(&e.tensor)?)))
            .collect::<torch::Result<_>>()?;
        finish(move |env| {
            let items = entries
                .iter()
                .map(|(name, role, t)| {
                    let item = t.to_js(env)?;
                    env.set(item, "name", env.string(name)?)?;
                    let role = if *role == Role::Parameter { "parameter" } else { "buffer" };
                    env.set(item, "role", env.string(role)?)?;
                    Ok(item)
                })
                .collect::<JsResult<Vec<_>>>()?;
            env.array(&items)
        })
    })
}

/// `byolLoadState(model, network, entries) -> Promise<void>`: every name must be present once
/// with the model's shape; nothing is written otherwise.
pub fn load_state(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = handle(env, args[0])?;
    let network = network(env, args[1])?;
    let mut values = Vec::new();
    for (i, item) in env.array_items(args[2], "entries")?.into_iter().enumerate() {
        let label = format!("entries[{i}]");
        let item = env.to_object(item, &label)?;
        let name = env.to_string(env.get(item, "name")?, &format!("{label}.name"))?;
        let t = HostTensor::from_js(env, item, &format!("{label} ({name})"))?;
        values.push((name, t.kind, t.shape, t.bytes));
    }
    let training = h.training.clone();
    spawn(env, "byol.loadState", move || {
        lock(&training).model().store(network).load(&values)?;
        finish(|env| env.undefined())
    })
}

/// `negativeCosineLoss(p0, z0, p1, z1) -> Promise<{ loss, gradP0, gradP1 }>`: BYOL's symmetrised
/// loss on CPU and its gradient with respect to the predictions.
pub fn loss(env: &Env, args: &[Value]) -> JsResult<Value> {
    let names = ["p0", "z0", "p1", "z1"];
    let inputs: Vec<HostTensor> = names
        .iter()
        .zip(args)
        .map(|(n, v)| HostTensor::from_js_of(env, *v, n, Kind::Float))
        .collect::<JsResult<_>>()?;
    for (n, t) in names.iter().zip(&inputs) {
        if t.shape.len() != 2 || t.shape != inputs[0].shape {
            return Err(JsError::range_error(format!(
                "{n}: expected shape [N, D] equal to p0's {:?}, got {:?}",
                inputs[0].shape, t.shape
            )));
        }
    }
    spawn(env, "byol.loss", move || {
        let t: Vec<Tensor> = inputs.iter().map(|h| h.to_tensor(Device::Cpu)).collect::<torch::Result<_>>()?;
        t[0].set_requires_grad(true)?;
        t[2].set_requires_grad(true)?;
        let loss = byol::loss::byol_loss(&t[0], &t[1], &t[2], &t[3])?;
        loss.backward()?;
        let value = loss.item()?;
        let missing = || torch::TorchError::new("no gradient reached the predictions");
        let g0 = HostTensor::from_tensor(&t[0].grad()?.ok_or_else(missing)?)?;
        let g1 = HostTensor::from_tensor(&t[2].grad()?.ok_or_else(missing)?)?;
        finish(move |env| {
            let out = env.object()?;
            env.set(out, "loss", env.number(value)?)?;
            env.set(out, "gradP0", g0.to_js(env)?)?;
            env.set(out, "gradP1", g1.to_js(env)?)?;
            Ok(out)
        })
    })
}
