//! Process-level functions: libtorch's version, threads and devices, and pure schedule math.
use crate::js::{Env, JsError, JsResult, Value};
use byol::schedule;

/// Threads for libtorch's intra-op pool: `BYOL_NUM_THREADS`, else `OMP_NUM_THREADS` (which
/// torchrun and byol's launcher set for their workers), else every core shared among the
/// processes of a data-parallel job on this machine (`LOCAL_WORLD_SIZE`). libtorch's own default
/// here is 1, which halves CPU training speed on a 2-core machine.
pub fn default_threads() -> usize {
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.trim().parse::<usize>().ok()).filter(|&n| n > 0);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    var("BYOL_NUM_THREADS")
        .or_else(|| var("OMP_NUM_THREADS"))
        .unwrap_or_else(|| (cores / var("LOCAL_WORLD_SIZE").unwrap_or(1)).max(1))
}

pub fn runtime_info(env: &Env, _args: &[Value]) -> JsResult<Value> {
    let info = env.object()?;
    let cuda = torch::cuda_device_count()?;
    env.set(info, "libtorch", env.string(&torch::version()?)?)?;
    env.set(info, "threads", env.number(torch::num_threads()? as f64)?)?;
    env.set(info, "cudaDeviceCount", env.number(cuda as f64)?)?;
    env.set(info, "cudaAvailable", env.boolean(cuda > 0)?)?;
    env.set(info, "cudaGraphs", env.boolean(torch::cuda::cuda_support_built())?)?;
    env.set(info, "distributedBackends", crate::distributed::backends(env, &[])?)?;
    env.set(info, "jpeg", env.boolean(torch::jpeg::available())?)?;
    env.set(info, "blas", blas_info(env, &[])?)?;
    env.set(info, "onednn", onednn_info(env)?)?;
    env.set(info, "liveTensors", env.number(torch::live_tensors() as f64)?)?;
    Ok(info)
}

fn optional_string(env: &Env, s: Option<&str>) -> JsResult<Value> {
    match s {
        Some(s) => env.string(s),
        None => env.undefined(),
    }
}

/// `blasInfo()`: the BLAS alone, without touching CUDA (the loader asks for it at load time).
pub fn blas_info(env: &Env, _args: &[Value]) -> JsResult<Value> {
    let blas = torch::blas()?;
    let info = env.object()?;
    env.set(info, "name", env.string(&blas.name)?)?;
    env.set(info, "library", optional_string(env, blas.library.as_deref())?)?;
    env.set(info, "config", optional_string(env, blas.config.as_deref())?)?;
    env.set(info, "threading", optional_string(env, blas.threading)?)?;
    env.set(info, "reference", env.boolean(blas.reference)?)?;
    Ok(info)
}

fn onednn_info(env: &Env) -> JsResult<Value> {
    let onednn = torch::onednn_isa();
    let info = env.object()?;
    env.set(info, "version", optional_string(env, onednn.version.as_deref())?)?;
    env.set(info, "isa", optional_string(env, onednn.isa.as_deref())?)?;
    env.set(info, "capped", env.boolean(onednn.capped)?)?;
    env.set(info, "reason", env.string(&onednn.reason)?)?;
    Ok(info)
}

pub fn set_num_threads(env: &Env, args: &[Value]) -> JsResult<Value> {
    let n = env.to_number(args[0], "threads")?;
    if n < 1.0 || n.fract() != 0.0 || n > 1024.0 {
        return Err(JsError::range_error(format!("threads must be an integer in [1, 1024], got {n}")));
    }
    torch::set_num_threads(n as usize)?;
    crate::task::thread_count_changed();
    env.undefined()
}

/// `runtimeSetCudnnDeterministic(enabled)`: only deterministic cuDNN algorithms from now on (for
/// reproducible GPU runs and tests that compare two runs bit for bit).
pub fn set_cudnn_deterministic(env: &Env, args: &[Value]) -> JsResult<Value> {
    let enabled = env.to_bool(args[0], "enabled")?;
    torch::set_cudnn_deterministic(enabled)?;
    env.undefined()
}

/// `cosineSchedule(step, maxSteps, start, end)`
pub fn cosine_schedule(env: &Env, args: &[Value]) -> JsResult<Value> {
    let step = non_negative_integer(env, args[0], "step")?;
    let max_steps = non_negative_integer(env, args[1], "maxSteps")?;
    let start = env.to_number(args[2], "start")?;
    let end = env.to_number(args[3], "end")?;
    env.number(schedule::cosine_schedule(step, max_steps, start, end))
}

fn non_negative_integer(env: &Env, v: Value, name: &str) -> JsResult<u64> {
    let x = env.to_number(v, name)?;
    if x < 0.0 || x.fract() != 0.0 || x > 2f64.powi(53) {
        return Err(JsError::range_error(format!("{name} must be a non-negative integer, got {x}")));
    }
    Ok(x as u64)
}

/// `__testPanic(where)`: panics on purpose, on the JavaScript thread (`'sync'`) or on the compute
/// thread (`'async'`), so tests can check that a Rust panic becomes a JS error and nothing more.
/// Not part of the API.
pub fn test_panic(env: &Env, args: &[Value]) -> JsResult<Value> {
    match env.to_string(args[0], "where")?.as_str() {
        "sync" => panic!("test panic on the JavaScript thread"),
        "async" => crate::task::spawn(env, "byol.testPanic", || panic!("test panic on the compute thread")),
        other => Err(JsError::range_error(format!("where must be 'sync' or 'async', got '{other}'"))),
    }
}
