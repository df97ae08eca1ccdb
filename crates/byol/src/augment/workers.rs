//! Persistent CPU threads that run a batch's chunks side by side, each single-threaded.
//!
//! Why not libtorch's intra-op threads: the augmentations are many small operations, and splitting
//! each one across threads costs an OpenMP barrier per operation (and spinning when the machine is
//! busy). Why not fresh threads per batch: libtorch initialises every new thread's thread count
//! on its first operation, which recreates its global pthreadpool each time. These threads are
//! made once and set to one intra-op thread each (OpenMP's per-thread setting).
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

/// A job for one worker: a borrowed closure (its lifetime erased, see `run`) and its index.
struct Job {
    work: &'static (dyn Fn(usize) + Sync),
    index: usize,
    done: Arc<Completion>,
}

#[derive(Default)]
struct Completion {
    state: Mutex<(usize, Option<Box<dyn std::any::Any + Send>>)>,
    all_done: Condvar,
}

struct Pool {
    senders: Mutex<Vec<Sender<Job>>>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool { senders: Mutex::new(Vec::new()) })
}

fn spawn_worker() -> Sender<Job> {
    let (tx, rx) = channel::<Job>();
    std::thread::Builder::new()
        .name("byol-augment".into())
        .spawn(move || {
            // One intra-op thread here; failures only cost speed.
            let _ = torch::init_thread().and_then(|_| torch::set_thread_local_threads(1));
            for job in rx {
                let outcome = catch_unwind(AssertUnwindSafe(|| (job.work)(job.index)));
                let mut state = job.done.state.lock().unwrap_or_else(|p| p.into_inner());
                if let Err(panic) = outcome {
                    state.1.get_or_insert(panic);
                }
                state.0 -= 1;
                if state.0 == 0 {
                    job.done.all_done.notify_all();
                }
            }
        })
        .expect("byol: could not start an augmentation thread");
    tx
}

/// Runs `work(0)`, ..., `work(count - 1)` on `count` persistent threads and returns when all have
/// finished (re-raising a panic of any of them).
pub fn run(count: usize, work: &(dyn Fn(usize) + Sync)) {
    let done = Arc::new(Completion::default());
    done.state.lock().unwrap().0 = count;
    // SAFETY: `work` outlives every use: this function does not return (or unwind) before every
    // job has finished with it, which the completion count below waits for.
    let work: &'static (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute(work) };
    {
        let mut senders = pool().senders.lock().unwrap_or_else(|p| p.into_inner());
        while senders.len() < count {
            senders.push(spawn_worker());
        }
        for (index, tx) in senders.iter().take(count).enumerate() {
            tx.send(Job { work, index, done: done.clone() }).expect("augmentation thread alive");
        }
    }
    let mut state = done.state.lock().unwrap_or_else(|p| p.into_inner());
    while state.0 > 0 {
        state = done.all_done.wait(state).unwrap_or_else(|p| p.into_inner());
    }
    if let Some(panic) = state.1.take() {
        drop(state);
        resume_unwind(panic);
    }
}
