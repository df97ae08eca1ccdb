//! Declarations of `libtch/byol_cuda.h`: CUDA graphs, side streams and memory statistics (errors
//! in a shim built without CUDA). Keep in step with the header.
#![allow(non_camel_case_types)]
use crate::{bt_error, bt_tensor};
use std::os::raw::c_int;

#[repr(C)]
pub struct bt_cuda_graph_s {
    _private: [u8; 0],
}
#[repr(C)]
pub struct bt_stream_scope_s {
    _private: [u8; 0],
}
pub type bt_cuda_graph = *mut bt_cuda_graph_s;
pub type bt_stream_scope = *mut bt_stream_scope_s;
#[repr(C)]
pub struct bt_cuda_event_s {
    _private: [u8; 0],
}
pub type bt_cuda_event = *mut bt_cuda_event_s;

extern "C" {
    pub fn bt_cuda_support_built() -> c_int;
    pub fn bt_stream_scope_begin(device_index: c_int, out: *mut bt_stream_scope) -> bt_error;
    pub fn bt_stream_scope_end(s: bt_stream_scope) -> bt_error;
    pub fn bt_stream_scope_leave(s: bt_stream_scope) -> bt_error;
    pub fn bt_tensor_record_stream(t: bt_tensor) -> bt_error;
    pub fn bt_cuda_graph_new(out: *mut bt_cuda_graph) -> bt_error;
    pub fn bt_cuda_graph_free(g: bt_cuda_graph);
    pub fn bt_cuda_graph_capture_begin(g: bt_cuda_graph) -> bt_error;
    pub fn bt_cuda_graph_capture_end(g: bt_cuda_graph) -> bt_error;
    pub fn bt_cuda_graph_replay(g: bt_cuda_graph) -> bt_error;
    pub fn bt_cuda_event_record(device_index: c_int, out: *mut bt_cuda_event) -> bt_error;
    pub fn bt_cuda_event_synchronize(e: bt_cuda_event) -> bt_error;
    pub fn bt_cuda_event_free(e: bt_cuda_event);
    pub fn bt_cuda_peak_memory(device_index: c_int, allocated: *mut i64, reserved: *mut i64) -> bt_error;
    pub fn bt_cuda_reset_peak_memory(device_index: c_int) -> bt_error;
}
