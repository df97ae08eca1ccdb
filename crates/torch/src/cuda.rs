//! CUDA graphs, side streams and memory statistics. In a shim built without CUDA every call
//! returns an error (which is how callers learn to run eagerly instead).
use crate::device::Device;
use crate::error::{check, Result, TorchError};
use crate::tensor::{produce, Tensor};
use std::ptr::null_mut;
use torch_sys as sys;

/// Whether the shim was built with CUDA graph and stream support.
pub fn cuda_support_built() -> bool {
    unsafe { sys::bt_cuda_support_built() != 0 }
}

fn cuda_index(device: Device) -> Result<i32> {
    match device {
        Device::Cuda(i) => Ok(i as i32),
        Device::Cpu => Err(TorchError::new("this needs a CUDA device, got cpu")),
    }
}

/// Work queued while the scope lives goes to a side stream of `device` that first waits for the
/// current stream (fork); `end` (or drop) makes the current stream wait for it (join). In a
/// graph capture the fork and join become edges, so both streams' work may overlap on replay.
pub struct StreamScope {
    raw: sys::bt_stream_scope,
}

impl StreamScope {
    pub fn begin(device: Device) -> Result<StreamScope> {
        let mut raw = null_mut();
        check(unsafe { sys::bt_stream_scope_begin(cuda_index(device)?, &mut raw) })?;
        Ok(StreamScope { raw })
    }

    /// Back to the previous stream without waiting: work queued next overlaps the side stream's
    /// until `end` joins them.
    pub fn leave(&self) -> Result<()> {
        check(unsafe { sys::bt_stream_scope_leave(self.raw) })
    }

    pub fn end(mut self) -> Result<()> {
        let raw = std::mem::replace(&mut self.raw, null_mut());
        check(unsafe { sys::bt_stream_scope_end(raw) })
    }
}

impl Drop for StreamScope {
    fn drop(&mut self) {
        if !self.raw.is_null() {
            let _ = check(unsafe { sys::bt_stream_scope_end(self.raw) });
        }
    }
}

/// Tells the caching allocator that `t` is also used on the current stream.
pub fn record_stream(t: &Tensor) -> Result<()> {
    check(unsafe { sys::bt_tensor_record_stream(t.raw) })
}

/// One captured CUDA graph (`at::cuda::CUDAGraph`).
pub struct CudaGraph {
    raw: sys::bt_cuda_graph,
}

// SAFETY: the graph is only used from the thread that owns its model (byol's compute thread).
unsafe impl Send for CudaGraph {}

impl CudaGraph {
    /// Records (does not run) what `f` queues, on a side stream of `device` as capture requires.
    /// Tensors that `f` allocates live in the graph's private memory pool and are rewritten on
    /// every replay.
    pub fn capture<T>(device: Device, f: impl FnOnce() -> Result<T>) -> Result<(CudaGraph, T)> {
        let mut raw = null_mut();
        check(unsafe { sys::bt_cuda_graph_new(&mut raw) })?;
        let graph = CudaGraph { raw };
        let scope = StreamScope::begin(device)?;
        check(unsafe { sys::bt_cuda_graph_capture_begin(graph.raw) })?;
        let result = f();
        // End the capture whatever `f` did, so the stream is usable again; report f's error first.
        let ended = check(unsafe { sys::bt_cuda_graph_capture_end(graph.raw) });
        let joined = scope.end();
        let value = result?;
        ended?;
        joined?;
        Ok((graph, value))
    }

    pub fn replay(&self) -> Result<()> {
        check(unsafe { sys::bt_cuda_graph_replay(self.raw) })
    }
}

impl Drop for CudaGraph {
    fn drop(&mut self) {
        unsafe { sys::bt_cuda_graph_free(self.raw) }
    }
}

/// A point in the current stream's queue of `device`: `synchronize` waits for the work queued
/// before it, not for work queued after.
pub struct CudaEvent {
    raw: sys::bt_cuda_event,
}

// SAFETY: a CUDA event may be waited on from any thread.
unsafe impl Send for CudaEvent {}

impl CudaEvent {
    pub fn record(device: Device) -> Result<CudaEvent> {
        let mut raw = null_mut();
        check(unsafe { sys::bt_cuda_event_record(cuda_index(device)?, &mut raw) })?;
        Ok(CudaEvent { raw })
    }

    pub fn synchronize(&self) -> Result<()> {
        check(unsafe { sys::bt_cuda_event_synchronize(self.raw) })
    }
}

impl Drop for CudaEvent {
    fn drop(&mut self) {
        unsafe { sys::bt_cuda_event_free(self.raw) }
    }
}

/// A host copy of `t` queued without waiting (pinned memory for a GPU tensor; a CPU tensor is
/// returned as it is). Read it after a [`CudaEvent`] recorded after this call has completed.
pub fn to_host_async(t: &Tensor) -> Result<Tensor> {
    produce(|out| unsafe { sys::bt_to_host_async(t.raw, out) })
}

/// Peak bytes (held by tensors, reserved by the caching allocator) since the last reset.
pub fn cuda_peak_memory(device: Device) -> Result<(i64, i64)> {
    let (mut allocated, mut reserved) = (0, 0);
    check(unsafe { sys::bt_cuda_peak_memory(cuda_index(device)?, &mut allocated, &mut reserved) })?;
    Ok((allocated, reserved))
}

pub fn cuda_reset_peak_memory(device: Device) -> Result<()> {
    check(unsafe { sys::bt_cuda_reset_peak_memory(cuda_index(device)?) })
}

/// Modes of [`cuda_sync_debug_mode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncDebug {
    Off = 0,
    Warn = 1,
    Error = 2,
}

/// libtorch's CUDA synchronisation check, process-wide: `Off`, `Warn`, or `Error` (any operation
/// that makes the host wait for the device fails). Returns the mode before.
pub fn cuda_sync_debug_mode(mode: SyncDebug) -> Result<SyncDebug> {
    let mut previous = 0;
    check(unsafe { sys::bt_cuda_sync_debug_mode(mode as i32, &mut previous) })?;
    Ok(match previous {
        1 => SyncDebug::Warn,
        2 => SyncDebug::Error,
        _ => SyncDebug::Off,
    })
}

/// Values whose tensors can be marked as used on the current stream (see [`record_stream`]).
pub trait StreamTensors {
    fn record_stream(&self) -> Result<()>;
}

impl StreamTensors for Tensor {
    fn record_stream(&self) -> Result<()> {
        record_stream(self)
    }
}

impl<A: StreamTensors, B: StreamTensors> StreamTensors for (A, B) {
    fn record_stream(&self) -> Result<()> {
        self.0.record_stream()?;
        self.1.record_stream()
    }
}

/// Work queued by [`on_side_stream`] that the current stream has not waited for yet.
pub struct SideStream<T> {
    scope: Option<StreamScope>,
    value: T,
}

impl<T: StreamTensors> SideStream<T> {
    /// Makes the current stream wait for the side stream's work, and tells the caching allocator
    /// that its outputs are now used on the current stream too. Returns those outputs.
    pub fn join(self) -> Result<T> {
        if let Some(scope) = self.scope {
            scope.end()?;
            self.value.record_stream()?;
        }
        Ok(self.value)
    }
}

/// Queues `f` on a side stream of `device` (which first waits for the current stream) and comes
/// back to the current stream without waiting for it: work queued until [`SideStream::join`]
/// overlaps `f`'s. With `device` `None`, `f` runs on the current stream and `join` does nothing.
pub fn on_side_stream<T>(device: Option<Device>, f: impl FnOnce() -> Result<T>) -> Result<SideStream<T>> {
    let Some(device) = device else {
        return Ok(SideStream { scope: None, value: f()? });
    };
    let scope = StreamScope::begin(device)?;
    let value = f()?;
    scope.leave()?;
    Ok(SideStream { scope: Some(scope), value })
}
