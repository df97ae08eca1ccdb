//! The native trainer: bound to one model, dataset and augmenter, it runs chunks of steps with
//! the whole step on the device (a CUDA graph on CUDA). JavaScript queues a chunk, then reads the
//! previous chunk's losses (which waits for that chunk only), so the device never waits for
//! JavaScript between steps.
use crate::augment;
use crate::dataset;
use crate::js::{Env, Handle, JsError, JsResult, Value};
use crate::model;
use crate::options::Options;
use crate::task::{finish, lock, spawn};
use byol::augment::Augmenter;
use byol::data_parallel::Replicas;
use byol::dataset::ImageDataset;
use byol::{GraphMode, Precision, QueuedLosses, StepOptions, TrainStep, Trainer, TrainerOptions};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use torch::{Device, Kind};

struct TrainerHandle {
    training: Arc<Mutex<TrainStep>>,
    dataset: Arc<Mutex<ImageDataset>>,
    augmenter: Option<Arc<Mutex<Augmenter>>>,
    /// None once disposed.
    trainer: Arc<Mutex<Option<Trainer>>>,
    /// Set by `trainerDispose` on the JavaScript thread, so later calls fail at once without
    /// waiting for the lock a running chunk holds.
    disposed: AtomicBool,
}

/// A chunk's losses, on their way to the host until read.
struct LossesHandle {
    steps: usize,
    losses: Mutex<Option<QueuedLosses>>,
}

impl Handle for TrainerHandle {
    const KIND: &'static str = "a trainer handle returned by trainerCreate";
    const TAG: u64 = 0x6279_6f6c_7472_6e72; // "byoltrnr"
}

impl Handle for LossesHandle {
    const KIND: &'static str = "the losses handle of a trainerRun result";
    const TAG: u64 = 0x6279_6f6c_6c6f_7373; // "byolloss"
}

fn trainer_handle(env: &Env, value: Value) -> JsResult<&TrainerHandle> {
    let h: &TrainerHandle = env.handle(value, "trainer")?;
    if h.disposed.load(Ordering::Acquire) {
        return Err(JsError::type_error(format!("trainer must be {}; this one was disposed", TrainerHandle::KIND)));
    }
    Ok(h)
}

fn mode_name(mode: &GraphMode) -> (&'static str, Option<String>) {
    match mode {
        GraphMode::Captured => ("graph", None),
        GraphMode::WarmingUp(_) => ("warmup", None),
        GraphMode::Eager(reason) => ("eager", Some(reason.clone())),
    }
}

/// `trainerCreate(model, dataset, augmenter | null, { batchSize, cudaGraph?, warmupSteps?,
/// accumulate?, group? }) -> Promise<TrainerHandle>`: `batchSize` is this process's batch per
/// step; with `accumulate: k` each step runs it as k micro-batches; with a `group` (groupJoin)
/// every rank first takes rank 0's model and each step averages the gradients over the ranks.
pub fn create(env: &Env, args: &[Value]) -> JsResult<Value> {
    let m = model::handle(env, args[0])?.training.clone();
    let d = dataset::handle(env, args[1], "dataset")?.dataset.clone();
    let a = if env.is_nullish(args[2])? {
        None
    } else {
        Some(augment::handle(env, args[2], "augmenter")?.augmenter.clone())
    };
    let o = Options::new(env, args[3], "options")?;
    let batch_size = o.required_number("batchSize", 2.0, (1 << 24) as f64)?;
    if batch_size.fract() != 0.0 {
        return Err(JsError::range_error(format!("options.batchSize must be an integer, got {batch_size}")));
    }
    let batch_size = batch_size as i64;
    let options = TrainerOptions {
        cuda_graph: o.boolean("cudaGraph", true)?,
        warmup_steps: o.integer("warmupSteps", 3, 1, 1000)? as usize,
    };
    let accumulate = o.integer("accumulate", 1, 1, 1 << 20)? as usize;
    let overlap = o.boolean("overlap", false)?;
    let megabytes = (byol::data_parallel::DEFAULT_BUCKET_BYTES >> 20) as f64;
    let bucket_bytes = (o.number("bucketMegabytes", megabytes, 0.001, 1e6)? * (1 << 20) as f64) as usize;
    let micro = batch_size / accumulate as i64;
    if batch_size % accumulate as i64 != 0 || micro < 2 {
        return Err(JsError::range_error(format!(
            "a batch of {batch_size} does not split into {accumulate} micro-batches of at least 2 images (accumulate)"
        )));
    }
    let group_value = env.get(args[3], "group")?;
    let group = if env.is_nullish(group_value)? { None } else { Some(crate::distributed::group_of(env, group_value)?) };
    spawn(env, "byol.trainerCreate", move || {
        let trainer = {
            let mut training = lock(&m);
            training.set_accumulate(accumulate)?;
            let replicas = match group {
                Some(g) => {
                    let model = training.model();
                    let mut statistics = Vec::new();
                    for n in [byol::Network::Online, byol::Network::Target] {
                        for e in model.store(n).entries().iter().filter(|e| e.role == torch::Role::Buffer) {
                            statistics.push(e.tensor.alias()?);
                        }
                    }
                    let params = model.store(byol::Network::Online).parameters()?;
                    Some(Replicas::new(g, params, statistics, bucket_bytes, overlap)?)
                }
                None => None,
            };
            training.set_replicas(replicas)?;
            let augmenter = a.as_ref().map(|a| lock(a));
            if training.device().is_cuda() {
                // cuDNN autotuning, as the PyTorch reference turns on.
                torch::set_cudnn_benchmark(true)?;
            }
            Trainer::new(options, &training, &lock(&d), augmenter.as_deref(), batch_size)?
        };
        let handle = TrainerHandle {
            training: m,
            dataset: d,
            augmenter: a,
            trainer: Arc::new(Mutex::new(Some(trainer))),
            disposed: AtomicBool::new(false),
        };
        finish(move |env| env.external(handle))
    })
}

/// `trainerRun(trainer, indices: BigInt64Array, { lr, momentum, batchSize? }) -> Promise<{ losses,
/// steps, graph: 'graph' | 'warmup' | 'eager', reason?: string }>`: queues one step per batch of
/// indices (batches of the trainer's size unless `batchSize` says otherwise); `losses` is read
/// later with `trainerLosses`.
pub fn run(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = trainer_handle(env, args[0])?;
    let indices = dataset::indices_arg(env, args[1], "indices")?;
    let o = Options::new(env, args[2], "options")?;
    let lr = o.required_number("lr", 0.0, f64::MAX)?;
    let momentum = o.required_number("momentum", 0.0, 1.0)?;
    let batch_size = o.integer("batchSize", 0, 0, 1 << 24)?;
    let (m, d, a, t) = (h.training.clone(), h.dataset.clone(), h.augmenter.clone(), h.trainer.clone());
    spawn(env, "byol.trainerRun", move || {
        let mut guard = lock(&t);
        let trainer = guard.as_mut().ok_or_else(|| torch::TorchError::new("this trainer was disposed"))?;
        let mut training = lock(&m);
        let augmenter = a.as_ref().map(|a| lock(a));
        let b = if batch_size == 0 { trainer.batch_size() } else { batch_size };
        let losses = trainer.run(&mut training, &lock(&d), augmenter.as_deref(), &indices, b, lr, momentum)?;
        let steps = losses.steps()?;
        let (graph, reason) = mode_name(trainer.mode());
        finish(move |env| {
            let o = env.object()?;
            env.set(o, "losses", env.external(LossesHandle { steps, losses: Mutex::new(Some(losses)) })?)?;
            env.set(o, "steps", env.number(steps as f64)?)?;
            env.set(o, "graph", env.string(graph)?)?;
            env.set(
                o,
                "reason",
                match &reason {
                    Some(r) => env.string(r)?,
                    None => env.undefined()?,
                },
            )?;
            Ok(o)
        })
    })
}

/// `trainerDispose(trainer) -> Promise<void>`: frees the trainer's captured graph and buffers now
/// (on the compute thread) instead of when JavaScript collects the handle.
pub fn dispose(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = trainer_handle(env, args[0])?;
    h.disposed.store(true, Ordering::Release);
    let (t, m) = (h.trainer.clone(), h.training.clone());
    spawn(env, "byol.trainerDispose", move || {
        drop(lock(&t).take());
        // The model outlives its trainer (it is the run's result): it leaves the job and its
        // later steps (byolStep) take whole batches again.
        let mut training = lock(&m);
        training.set_replicas(None)?;
        training.set_accumulate(1)?;
        finish(|env| env.undefined())
    })
}

/// `trainerCommTime(trainer) -> Promise<{ steps, allReduceSeconds, broadcastSeconds }>`: time
/// spent in the data-parallel collectives so far (zeros outside a job).
pub fn comm_time(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = trainer_handle(env, args[0])?;
    let m = h.training.clone();
    spawn(env, "byol.trainerCommTime", move || {
        let time = lock(&m).replicas().map(|r| r.comm_time()).unwrap_or_default();
        finish(move |env| {
            let o = env.object()?;
            env.set(o, "steps", env.number(time.steps as f64)?)?;
            env.set(o, "allReduceSeconds", env.number(time.all_reduce.as_secs_f64())?)?;
            env.set(o, "waitSeconds", env.number(time.wait.as_secs_f64())?)?;
            env.set(o, "broadcastSeconds", env.number(time.broadcast.as_secs_f64())?)?;
            Ok(o)
        })
    })
}

/// `trainerLosses(losses) -> Promise<Float32Array>`: waits for the chunk's steps and reads their
/// losses (once).
pub fn losses(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h: &LossesHandle = env.handle(args[0], "losses")?;
    let losses = lock(&h.losses)
        .take()
        .ok_or_else(|| JsError::error(format!("the losses of these {} steps were already read", h.steps)))?;
    spawn(env, "byol.trainerLosses", move || {
        let values = losses.read()?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
        finish(move |env| env.typed_array(crate::napi::NAPI_FLOAT32_ARRAY, &bytes, Kind::Float.element_size()))
    })
}

/// `byolSetStepOptions(model, { precision: 'fp32' | 'bf16', channelsLast, targetStream, jointViews })`
pub fn set_step_options(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = model::handle(env, args[0])?;
    let o = Options::new(env, args[1], "options")?;
    let precision = o.choice("precision", "fp32", &["fp32", "bf16"])?;
    let options = StepOptions {
        precision: Precision::parse(&precision).map_err(|e| JsError::range_error(e.to_string()))?,
        channels_last: o.boolean("channelsLast", false)?,
        target_stream: o.boolean("targetStream", false)?,
        joint_views: o.boolean("jointViews", false)?,
    };
    options.validate(h.device).map_err(|e| JsError::range_error(e.to_string()))?;
    let m = h.training.clone();
    spawn(env, "byol.setStepOptions", move || {
        lock(&m).set_options(options)?;
        finish(|env| env.undefined())
    })
}

fn cuda_device(env: &Env, value: Value) -> JsResult<Device> {
    let device = crate::config::device(&env.to_string(value, "device")?)?;
    if !device.is_cuda() {
        return Err(JsError::range_error(format!("device must be a CUDA device, got {device}")));
    }
    Ok(device)
}

/// `cudaPeakMemory(device, { reset? }) -> Promise<{ allocated, reserved }>`: peak bytes since the
/// last reset; `reset: true` starts a new measurement after reading.
pub fn cuda_peak_memory(env: &Env, args: &[Value]) -> JsResult<Value> {
    let device = cuda_device(env, args[0])?;
    let reset = Options::new(env, args[1], "options")?.boolean("reset", false)?;
    spawn(env, "byol.cudaPeakMemory", move || {
        let (allocated, reserved) = torch::cuda::cuda_peak_memory(device)?;
        if reset {
            torch::cuda::cuda_reset_peak_memory(device)?;
        }
        finish(move |env| {
            let o = env.object()?;
            env.set(o, "allocated", env.number(allocated as f64)?)?;
            env.set(o, "reserved", env.number(reserved as f64)?)?;
            Ok(o)
        })
    })
}
