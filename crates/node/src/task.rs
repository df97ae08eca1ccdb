//! Runs tensor work on libuv's thread pool and settles a promise on the JavaScript thread.
use crate::js::{panic_message, Env, JsError, JsResult, Value};
use crate::napi::*;
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::cell::Cell;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Builds the promise's value on the JavaScript thread from what the work produced.
pub type Finish = Box<dyn FnOnce(&Env) -> JsResult<Value> + Send>;
type Work = Box<dyn FnOnce() -> JsResult<Finish> + Send>;

struct Task {
    work: Option<Work>,
    result: Option<JsResult<Finish>>,
    deferred: napi_deferred,
    handle: napi_async_work,
}

/// Queues `work` off the JavaScript thread and returns a promise for its result. Errors and
/// panics in `work` or in the finishing step reject the promise; they never reach the process.
pub fn spawn(env: &Env, name: &str, work: impl FnOnce() -> JsResult<Finish> + Send + 'static) -> JsResult<Value> {
    let mut deferred = null_mut();
    let mut promise = null_mut();
    check(unsafe { napi_create_promise(env.0, &mut deferred, &mut promise) })?;
    let task = Box::into_raw(Box::new(Task { work: Some(Box::new(work)), result: None, deferred, handle: null_mut() }));
    let resource_name = env.string(name)?;
    let mut handle = null_mut();
    check(unsafe {
        napi_create_async_work(env.0, null_mut(), resource_name, Some(execute), Some(complete), task.cast(), &mut handle)
    })?;
    unsafe { (*task).handle = handle };
    check(unsafe { napi_queue_async_work(env.0, handle) })?;
    Ok(promise)
}

fn check(s: napi_status) -> JsResult<()> {
    if s == NAPI_OK {
        Ok(())
    } else {
        Err(JsError::error(format!("Node-API async work failed with status {s}")))
    }
}

/// Bumped whenever the process's thread count changes, so pool threads pick the new one up.
static THREADS_GENERATION: AtomicUsize = AtomicUsize::new(1);

thread_local! {
    static THREAD_GENERATION: Cell<usize> = Cell::new(0);
}

pub fn thread_count_changed() {
    THREADS_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Gives a libuv pool thread libtorch's thread count, once per change: OpenMP keeps it per
/// thread, and libtorch 1.13 rebuilds its global thread pool on every such call, whose fresh
/// threads then spin beside the work (a 2-5x slowdown when done for every task).
fn init_pool_thread() -> JsResult<()> {
    let current = THREADS_GENERATION.load(Ordering::SeqCst);
    if THREAD_GENERATION.with(|g| g.get()) != current {
        torch::init_thread()?;
        THREAD_GENERATION.with(|g| g.set(current));
    }
    Ok(())
}

unsafe extern "C" fn execute(_env: napi_env, data: *mut c_void) {
    let task = &mut *(data as *mut Task);
    let work = task.work.take().expect("async work runs once");
    let result = catch_unwind(AssertUnwindSafe(|| {
        init_pool_thread()?;
        work()
    }));
    task.result = Some(result.unwrap_or_else(|payload| Err(panic_message(payload))));
}

unsafe extern "C" fn complete(raw_env: napi_env, _status: napi_status, data: *mut c_void) {
    let task = Box::from_raw(data as *mut Task);
    let env = Env(raw_env);
    napi_delete_async_work(raw_env, task.handle);
    let outcome = match task.result {
        Some(Ok(finish)) => {
            catch_unwind(AssertUnwindSafe(|| finish(&env))).unwrap_or_else(|payload| Err(panic_message(payload)))
        }
        Some(Err(e)) => Err(e),
        None => Err(JsError::error("the operation was cancelled")),
    };
    match outcome {
        Ok(value) => {
            napi_resolve_deferred(raw_env, task.deferred, value);
        }
        Err(e) => {
            if let Ok(error) = env.error_value(&e) {
                napi_reject_deferred(raw_env, task.deferred, error);
            }
        }
    }
}
