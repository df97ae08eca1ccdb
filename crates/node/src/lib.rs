//! byol's Node-API addon. Every function that touches tensors returns a promise and does its
//! work on one compute thread (task.rs); errors and panics become rejected promises or thrown JS errors.
mod augment;
mod config;
mod dataset;
mod distributed;
mod host;
mod jpeg;
mod js;
mod knn;
mod model;
mod napi;
mod options;
mod runtime;
mod similarity;
mod task;
mod trainer;
mod training_state;

use js::{panic_message, Env, JsResult, Value};
use napi::*;
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;

type Function = fn(&Env, &[Value]) -> JsResult<Value>;

const MAX_ARGS: usize = 8;

const EXPORTS: &[(&str, Function)] = &[
    ("runtimeInfo", runtime::runtime_info),
    ("blasInfo", runtime::blas_info),
    ("runtimeSetNumThreads", runtime::set_num_threads),
    ("runtimeSetCudnnDeterministic", runtime::set_cudnn_deterministic),
    ("cosineSchedule", runtime::cosine_schedule),
    ("__testPanic", runtime::test_panic),
    ("byolCreate", model::create),
    ("byolStep", model::step),
    ("byolDevice", model::device),
    ("byolUpdateTarget", model::update_target),
    ("byolForward", model::forward),
    ("byolState", model::state),
    ("byolLoadState", model::load_state),
    ("negativeCosineLoss", model::loss),
    ("augmentResolveOptions", augment::resolve),
    ("augmenterCreate", augment::create),
    ("augmenterViews", augment::views),
    ("augmenterParams", augment::params),
    ("augmenterState", augment::state),
    ("augmenterSetState", augment::set_state),
    ("augmentOp", augment::op),
    ("datasetCreate", dataset::create),
    ("datasetLoad", dataset::load),
    ("datasetInfo", dataset::info),
    ("datasetGather", dataset::gather),
    ("byolTrainingState", training_state::training_state),
    ("byolLoadTrainingState", training_state::load_training_state),
    ("byolSetStepOptions", trainer::set_step_options),
    ("trainerCreate", trainer::create),
    ("trainerRun", trainer::run),
    ("trainerLosses", trainer::losses),
    ("trainerDispose", trainer::dispose),
    ("trainerCommTime", trainer::comm_time),
    ("distributedBackends", distributed::backends),
    ("groupJoin", distributed::join),
    ("groupPublish", distributed::publish),
    ("groupWaitFor", distributed::wait_for),
    ("groupAny", distributed::any),
    ("groupReportFailure", distributed::report_failure),
    ("groupLeave", distributed::leave),
    ("cudaPeakMemory", trainer::cuda_peak_memory),
    ("byolEmbedImages", knn::embed_uint8),
    ("byolEmbedDataset", knn::embed_dataset_js),
    ("byolKnnEvaluate", knn::evaluate),
    ("knnPredict", knn::predict),
    ("similarityTopk", similarity::topk),
    ("decodeJpeg", jpeg::decode),
    ("decodeJpegFile", jpeg::decode_file),
    ("jpegAvailable", jpeg::available),
];

/// The one C entry point for every exported function: `data` carries the Rust function.
unsafe extern "C" fn trampoline(raw_env: napi_env, info: napi_callback_info) -> napi_value {
    let env = Env(raw_env);
    let mut argc = MAX_ARGS;
    let mut argv = [null_mut(); MAX_ARGS];
    let mut data = null_mut::<c_void>();
    if napi_get_cb_info(raw_env, info, &mut argc, argv.as_mut_ptr(), null_mut(), &mut data) != NAPI_OK {
        return null_mut();
    }
    // Missing arguments read as undefined, which every parser rejects or defaults explicitly.
    let undefined = env.undefined().unwrap_or(null_mut());
    for slot in argv.iter_mut().skip(argc) {
        *slot = undefined;
    }
    let f: Function = std::mem::transmute::<*mut c_void, Function>(data);
    let result = catch_unwind(AssertUnwindSafe(|| f(&env, &argv))).unwrap_or_else(|p| Err(panic_message(p)));
    match result {
        Ok(v) => v,
        Err(e) => {
            env.throw(&e);
            null_mut()
        }
    }
}

/// Node's entry point: exports every function of `EXPORTS` on `exports`.
///
/// # Safety
/// Only node calls this, once per environment that loads the addon, with that environment and
/// its exports object.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(raw_env: napi_env, exports: napi_value) -> napi_value {
    let env = Env(raw_env);
    if let Err(e) = torch::init(runtime::default_threads()) {
        env.throw(&e.into());
        return null_mut();
    }
    for (name, f) in EXPORTS {
        let mut function = null_mut();
        let status = napi_create_function(
            raw_env,
            name.as_ptr().cast(),
            name.len(),
            Some(trampoline),
            *f as *mut c_void,
            &mut function,
        );
        if status != NAPI_OK || env.set(exports, name, function).is_err() {
            env.throw(&js::JsError::error(format!("could not export {name}")));
            return null_mut();
        }
    }
    exports
}
