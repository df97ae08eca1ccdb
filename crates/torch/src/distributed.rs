//! PyTorch's c10d from Rust: the TCPStore that ranks meet at and exchange small messages
//! through, and a process group (Gloo, NCCL) for broadcasts and all-reduces. What a
//! data-parallel trainer builds on; it holds no training logic.
use crate::error::{check, Result, TorchError};
use crate::tensor::Tensor;
use std::ffi::CString;
use std::ptr::null_mut;
use std::time::Duration;
use torch_sys as sys;

/// The process-group backends this build of byol's shim has (`gloo`, `nccl`).
pub fn backends() -> Vec<&'static str> {
    let bits = unsafe { sys::bt_dist_backends() };
    let mut out = Vec::new();
    if bits & sys::BT_DIST_GLOO != 0 {
        out.push("gloo");
    }
    if bits & sys::BT_DIST_NCCL != 0 {
        out.push("nccl");
    }
    out
}

/// What a process whose TCPStore host died says before it exits: libtorch's store client watches
/// its connection on a thread of its own, and a reset connection there would otherwise abort the
/// process with only "Connection reset by peer". `None` unsets it.
pub fn set_lost_store_message(message: Option<&str>) {
    // A message with a NUL byte is cut there rather than dropped.
    let message = message.map(|m| CString::new(m.split('\0').next().unwrap_or_default()).unwrap_or_default());
    unsafe { sys::bt_dist_set_lost_store_message(message.as_ref().map_or(std::ptr::null(), |m| m.as_ptr())) }
}

fn c_string(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| TorchError::new(format!("{what} must not contain NUL bytes")))
}

/// A connection to a c10d TCPStore (or, for rank 0, the store itself).
pub struct Store {
    raw: sys::bt_store,
}

// SAFETY: c10d's TCPStore serialises its own socket use; a Store is used by one thread at a time.
unsafe impl Send for Store {}

impl Store {
    /// The store at `host:port`: hosted here when `is_server` (port 0: any free port), joined as
    /// a client otherwise (retrying until `timeout`). Keys go under `prefix` when not empty.
    pub fn connect(host: &str, port: u16, is_server: bool, timeout: Duration, prefix: &str) -> Result<Store> {
        let (host, prefix) = (c_string("host", host)?, c_string("prefix", prefix)?);
        let mut raw = null_mut();
        check(unsafe {
            sys::bt_store_connect(
                host.as_ptr(),
                port as i32,
                is_server as i32,
                timeout.as_secs_f64(),
                prefix.as_ptr(),
                &mut raw,
            )
        })?;
        Ok(Store { raw })
    }

    /// The port the store listens on.
    pub fn port(&self) -> Result<u16> {
        let mut port = 0;
        check(unsafe { sys::bt_store_port(self.raw, &mut port) })?;
        Ok(port as u16)
    }

    pub fn set(&self, key: &str, value: &[u8]) -> Result<()> {
        let key = c_string("key", key)?;
        check(unsafe { sys::bt_store_set(self.raw, key.as_ptr(), value.as_ptr(), value.len()) })
    }

    /// The value at `key`, waiting for it up to the store's timeout.
    pub fn get(&self, key: &str) -> Result<Vec<u8>> {
        let key = c_string("key", key)?;
        let (mut data, mut len) = (null_mut(), 0usize);
        check(unsafe { sys::bt_store_get(self.raw, key.as_ptr(), &mut data, &mut len) })?;
        let value = unsafe { std::slice::from_raw_parts(data, len) }.to_vec();
        unsafe { sys::bt_bytes_free(data) };
        Ok(value)
    }

    /// Adds `delta` to the counter at `key` and returns its new value (`add(key, 0)` reads it).
    pub fn add(&self, key: &str, delta: i64) -> Result<i64> {
        let key = c_string("key", key)?;
        let mut out = 0;
        check(unsafe { sys::bt_store_add(self.raw, key.as_ptr(), delta, &mut out) })?;
        Ok(out)
    }

    /// Whether every one of `keys` is set, without waiting.
    pub fn check(&self, keys: &[&str]) -> Result<bool> {
        let owned = keys.iter().map(|k| c_string("key", k)).collect::<Result<Vec<_>>>()?;
        let ptrs: Vec<_> = owned.iter().map(|k| k.as_ptr()).collect();
        let mut out = 0;
        check(unsafe { sys::bt_store_check(self.raw, ptrs.as_ptr(), ptrs.len(), &mut out) })?;
        Ok(out != 0)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        unsafe { sys::bt_store_free(self.raw) }
    }
}

/// Where Gloo binds its sockets: a named interface, or an address of this machine.
pub enum Binding<'a> {
    Interface(&'a str),
    Address(&'a str),
}

/// A c10d process group.
pub struct ProcessGroup {
    raw: sys::bt_process_group,
    rank: usize,
    world_size: usize,
}

// SAFETY: c10d process groups are made to be driven from any thread (they queue work).
unsafe impl Send for ProcessGroup {}
unsafe impl Sync for ProcessGroup {}

impl ProcessGroup {
    /// Joins the group of `world_size` ranks meeting at `store`, as `rank`, over `backend`.
    /// Every collective fails after `timeout`.
    pub fn new(
        store: &Store,
        backend: &str,
        rank: usize,
        world_size: usize,
        timeout: Duration,
        binding: Binding<'_>,
    ) -> Result<ProcessGroup> {
        let backend_c = c_string("backend", backend)?;
        let (hostname, interface) = match binding {
            Binding::Interface(i) => (String::new(), i.to_string()),
            Binding::Address(a) => (a.to_string(), String::new()),
        };
        let (hostname, interface) = (c_string("hostname", &hostname)?, c_string("interface", &interface)?);
        let mut raw = null_mut();
        check(unsafe {
            sys::bt_process_group_new(
                store.raw,
                backend_c.as_ptr(),
                rank as i32,
                world_size as i32,
                timeout.as_secs_f64(),
                hostname.as_ptr(),
                interface.as_ptr(),
                &mut raw,
            )
        })?;
        Ok(ProcessGroup { raw, rank, world_size })
    }

    pub fn rank(&self) -> usize {
        self.rank
    }

    pub fn world_size(&self) -> usize {
        self.world_size
    }

    /// Every rank ends with rank `root`'s values of `tensors`, in place.
    pub fn broadcast(&self, tensors: &[&Tensor], root: usize) -> Result<()> {
        let raws: Vec<_> = tensors.iter().map(|t| t.raw).collect();
        check(unsafe { sys::bt_broadcast_(self.raw, raws.as_ptr(), raws.len(), root as i32) })
    }

    /// Starts summing `t` in place over every rank.
    pub fn all_reduce_sum(&self, t: &Tensor) -> Result<Work> {
        let mut raw = null_mut();
        check(unsafe { sys::bt_allreduce_sum_(self.raw, t.raw, &mut raw) })?;
        Ok(Work { raw })
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        unsafe { sys::bt_process_group_free(self.raw) }
    }
}

/// A collective in flight.
pub struct Work {
    raw: sys::bt_work,
}

unsafe impl Send for Work {}

impl Work {
    /// Waits for the collective; a rank that is gone or the group's timeout is an error here.
    pub fn wait(self) -> Result<()> {
        check(unsafe { sys::bt_work_wait(self.raw) })
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        unsafe { sys::bt_work_free(self.raw) }
    }
}
