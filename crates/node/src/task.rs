//! Runs tensor work on one dedicated compute thread and settles a promise on the JavaScript
//! thread. One thread for all tensor work (rather than libuv's pool) keeps libtorch's OpenMP team
//! and glibc's malloc arena the same from step to step: on the pool, steps landed on different
//! threads, each with its own arena holding a copy of the step's peak memory (2.3x the RSS) and
//! its own thread team (about 5% slower). It also leaves libuv's pool to file I/O and decoding.
use crate::js::{panic_message, Env, JsError, JsResult, Value};
use crate::napi::*;
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Builds the promise's value on the JavaScript thread from what the work produced.
pub type Finish = Box<dyn FnOnce(&Env) -> JsResult<Value> + Send>;

/// What a task's work returns: how to build its promise's value on the JavaScript thread.
pub fn finish(value: impl FnOnce(&Env) -> JsResult<Value> + Send + 'static) -> JsResult<Finish> {
    Ok(Box::new(value))
}

/// Locks what a handle shares with the compute thread. A panic inside an earlier call was
/// reported to that call's caller; the value itself stays usable.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
type Work = Box<dyn FnOnce() -> JsResult<Finish> + Send>;

struct Task {
    work: Option<Work>,
    result: Option<JsResult<Finish>>,
    deferred: napi_deferred,
    done: napi_threadsafe_function,
}

// SAFETY: the raw Node-API handles are only used on the JavaScript thread (in `settle`); the
// compute thread merely passes them back through the thread-safe function.
unsafe impl Send for Task {}

/// Queues `work` on the compute thread and returns a promise for its result. Errors and panics
/// in `work` or in the finishing step reject the promise; they never reach the process.
pub fn spawn(env: &Env, name: &str, work: impl FnOnce() -> JsResult<Finish> + Send + 'static) -> JsResult<Value> {
    let mut deferred = null_mut();
    let mut promise = null_mut();
    check(unsafe { napi_create_promise(env.0, &mut deferred, &mut promise) })?;
    // A thread-safe function per task: it brings the result back to this thread (and this
    // environment, also in a worker thread) and keeps the event loop alive until then.
    let mut done = null_mut();
    check(unsafe {
        napi_create_threadsafe_function(
            env.0,
            null_mut(),
            null_mut(),
            env.string(name)?,
            0,
            1,
            null_mut(),
            None,
            null_mut(),
            Some(settle),
            &mut done,
        )
    })?;
    let task = Box::new(Task { work: Some(Box::new(work)), result: None, deferred, done });
    compute_thread()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .send(task)
        .map_err(|_| JsError::error("byol's compute thread has stopped"))?;
    Ok(promise)
}

fn check(s: napi_status) -> JsResult<()> {
    if s == NAPI_OK {
        Ok(())
    } else {
        Err(JsError::error(format!("Node-API call failed with status {s}")))
    }
}

fn compute_thread() -> &'static Mutex<Sender<Box<Task>>> {
    static SENDER: OnceLock<Mutex<Sender<Box<Task>>>> = OnceLock::new();
    SENDER.get_or_init(|| {
        let (sender, receiver) = channel::<Box<Task>>();
        std::thread::Builder::new()
            .name("byol-compute".into())
            .spawn(move || {
                for mut task in receiver {
                    run(&mut task);
                    let done = task.done;
                    let raw = Box::into_raw(task);
                    unsafe {
                        if napi_call_threadsafe_function(done, raw.cast(), NAPI_TSFN_NONBLOCKING) != NAPI_OK {
                            // The environment is shutting down: nobody is waiting for the result.
                            drop(Box::from_raw(raw));
                        }
                        napi_release_threadsafe_function(done, NAPI_TSFN_RELEASE);
                    }
                }
            })
            .expect("starting byol's compute thread");
        Mutex::new(sender)
    })
}

fn run(task: &mut Task) {
    let work = task.work.take().expect("a task runs once");
    let result = catch_unwind(AssertUnwindSafe(|| {
        init_compute_thread()?;
        work()
    }));
    task.result = Some(result.unwrap_or_else(|payload| Err(panic_message(payload))));
}

/// Bumped whenever the process's thread count changes, so the compute thread picks it up.
static THREADS_GENERATION: AtomicUsize = AtomicUsize::new(1);
static APPLIED_GENERATION: AtomicUsize = AtomicUsize::new(0);

pub fn thread_count_changed() {
    THREADS_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Gives the compute thread libtorch's thread count, once per change: OpenMP keeps it per
/// thread, and libtorch 1.13 rebuilds its global thread pool on every such call.
fn init_compute_thread() -> JsResult<()> {
    let current = THREADS_GENERATION.load(Ordering::SeqCst);
    if APPLIED_GENERATION.load(Ordering::SeqCst) != current {
        torch::init_thread()?;
        APPLIED_GENERATION.store(current, Ordering::SeqCst);
    }
    Ok(())
}

/// Runs on the JavaScript thread: settles the promise with the task's result.
unsafe extern "C" fn settle(raw_env: napi_env, _js_callback: napi_value, _context: *mut c_void, data: *mut c_void) {
    let task = Box::from_raw(data as *mut Task);
    if raw_env.is_null() {
        return; // the environment is being torn down
    }
    settle_deferred(&Env(raw_env), task.deferred, task.result);
}

/// Resolves `deferred` with what `result`'s finishing step builds, or rejects it with the error.
unsafe fn settle_deferred(env: &Env, deferred: napi_deferred, result: Option<JsResult<Finish>>) {
    let outcome = match result {
        Some(Ok(finish)) => {
            catch_unwind(AssertUnwindSafe(|| finish(env))).unwrap_or_else(|payload| Err(panic_message(payload)))
        }
        Some(Err(e)) => Err(e),
        None => Err(JsError::error("the operation was cancelled")),
    };
    match outcome {
        Ok(value) => {
            napi_resolve_deferred(env.0, deferred, value);
        }
        Err(e) => {
            if let Ok(error) = env.error_value(&e) {
                napi_reject_deferred(env.0, deferred, error);
            }
        }
    }
}

struct PoolTask {
    work: Option<Work>,
    result: Option<JsResult<Finish>>,
    deferred: napi_deferred,
    async_work: napi_async_work,
}

/// Queues `work` on libuv's thread pool and returns a promise for its result, as `spawn` does.
/// For short work that uses no libtorch (decoding an image): requests then never wait behind a
/// forward pass on the compute thread, and several decode at once.
pub fn spawn_on_pool(
    env: &Env,
    name: &str,
    work: impl FnOnce() -> JsResult<Finish> + Send + 'static,
) -> JsResult<Value> {
    let mut deferred = null_mut();
    let mut promise = null_mut();
    check(unsafe { napi_create_promise(env.0, &mut deferred, &mut promise) })?;
    let task = Box::into_raw(Box::new(PoolTask {
        work: Some(Box::new(work)),
        result: None,
        deferred,
        async_work: null_mut(),
    }));
    let queued = unsafe {
        check(napi_create_async_work(
            env.0,
            null_mut(),
            env.string(name)?,
            Some(execute_on_pool),
            Some(complete_on_pool),
            task.cast(),
            &mut (*task).async_work,
        ))
        .and_then(|()| check(napi_queue_async_work(env.0, (*task).async_work)))
    };
    if let Err(e) = queued {
        let task = unsafe { Box::from_raw(task) };
        if !task.async_work.is_null() {
            unsafe { napi_delete_async_work(env.0, task.async_work) };
        }
        return Err(e);
    }
    Ok(promise)
}

/// Runs on a libuv pool thread: no Node-API calls here.
unsafe extern "C" fn execute_on_pool(_env: napi_env, data: *mut c_void) {
    let task = &mut *(data as *mut PoolTask);
    let work = task.work.take().expect("a task runs once");
    task.result = Some(catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| Err(panic_message(payload))));
}

/// Runs on the JavaScript thread once the work is done (or cancelled).
unsafe extern "C" fn complete_on_pool(raw_env: napi_env, status: napi_status, data: *mut c_void) {
    let task = Box::from_raw(data as *mut PoolTask);
    napi_delete_async_work(raw_env, task.async_work);
    let result = if status == NAPI_CANCELLED { None } else { task.result };
    settle_deferred(&Env(raw_env), task.deferred, result);
}
