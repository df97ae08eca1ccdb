use crate::device::Device;
use crate::error::{check, Result};
use std::ffi::CStr;
use std::os::raw::c_char;
use torch_sys as sys;

/// Process-wide set-up: the oneDNN instruction set (decided before oneDNN's first kernel, see
/// [`onednn_isa`](crate::onednn_isa)), allocator tuning and the intra-op thread count (0 keeps
/// libtorch's).
pub fn init(num_threads: usize) -> Result<()> {
    crate::platform::onednn_isa();
    check(unsafe { sys::bt_init(num_threads as i32) })
}

/// Applies the process's thread count to the calling thread; call first on every worker thread,
/// since OpenMP keeps the setting per thread.
pub fn init_thread() -> Result<()> {
    check(unsafe { sys::bt_init_thread() })
}

pub fn version() -> Result<String> {
    let mut buf = [0 as c_char; 64];
    check(unsafe { sys::bt_version(buf.as_mut_ptr(), buf.len()) })?;
    Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned())
}

pub fn num_threads() -> Result<usize> {
    let mut n = 0;
    check(unsafe { sys::bt_get_num_threads(&mut n) })?;
    Ok(n as usize)
}

/// Tensor handles alive in the process (created through the shim and not yet dropped).
pub fn live_tensors() -> usize {
    unsafe { sys::bt_live_tensors() }.max(0) as usize
}

pub fn set_num_threads(n: usize) -> Result<()> {
    check(unsafe { sys::bt_set_num_threads(n as i32) })
}

pub fn cuda_device_count() -> Result<usize> {
    let mut n = 0;
    check(unsafe { sys::bt_cuda_device_count(&mut n) })?;
    Ok(n as usize)
}

pub fn cuda_synchronize(device: Device) -> Result<()> {
    match device {
        Device::Cpu => Ok(()),
        Device::Cuda(i) => check(unsafe { sys::bt_cuda_synchronize(i as i32) }),
    }
}

/// Intra-op threads of the calling thread only (libtorch's global setting and other threads are
/// unchanged): lets several threads each run small operations single-threaded, side by side.
pub fn set_thread_local_threads(n: usize) -> Result<()> {
    check(unsafe { sys::bt_set_thread_local_threads(n as i32) })
}
