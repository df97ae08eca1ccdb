//! Declarations of `libtch/byol_dist.h`: c10d stores, process groups and their collectives
//! (errors in a shim built without c10d's headers). Keep in step with the header.
#![allow(non_camel_case_types)]
use crate::{bt_error, bt_tensor};
use std::os::raw::{c_char, c_double, c_int, c_uint, c_void};

#[repr(C)]
pub struct bt_store_s {
    _private: [u8; 0],
}
#[repr(C)]
pub struct bt_process_group_s {
    _private: [u8; 0],
}
#[repr(C)]
pub struct bt_work_s {
    _private: [u8; 0],
}
pub type bt_store = *mut bt_store_s;
pub type bt_process_group = *mut bt_process_group_s;
pub type bt_work = *mut bt_work_s;
pub type bt_grad_hook = unsafe extern "C" fn(data: *mut c_void, grad: bt_tensor);

pub const BT_DIST_GLOO: c_int = 1;
pub const BT_DIST_NCCL: c_int = 2;

extern "C" {
    pub fn bt_dist_backends() -> c_int;
    pub fn bt_dist_set_lost_store_message(message: *const c_char);

    pub fn bt_store_connect(
        host: *const c_char,
        port: c_int,
        is_server: c_int,
        timeout_s: c_double,
        prefix: *const c_char,
        out: *mut bt_store,
    ) -> bt_error;
    pub fn bt_store_free(s: bt_store);
    pub fn bt_store_port(s: bt_store, out: *mut c_int) -> bt_error;
    pub fn bt_store_set(s: bt_store, key: *const c_char, data: *const u8, len: usize) -> bt_error;
    pub fn bt_store_get(s: bt_store, key: *const c_char, data: *mut *mut u8, len: *mut usize) -> bt_error;
    pub fn bt_bytes_free(data: *mut u8);
    pub fn bt_store_add(s: bt_store, key: *const c_char, delta: i64, out: *mut i64) -> bt_error;
    pub fn bt_store_check(s: bt_store, keys: *const *const c_char, n: usize, out: *mut c_int) -> bt_error;

    #[allow(clippy::too_many_arguments)]
    pub fn bt_process_group_new(
        store: bt_store,
        backend: *const c_char,
        rank: c_int,
        world_size: c_int,
        timeout_s: c_double,
        hostname: *const c_char,
        interface: *const c_char,
        out: *mut bt_process_group,
    ) -> bt_error;
    pub fn bt_process_group_free(pg: bt_process_group);
    pub fn bt_broadcast_(pg: bt_process_group, ts: *const bt_tensor, n: usize, root: c_int) -> bt_error;
    pub fn bt_allreduce_sum_(pg: bt_process_group, t: bt_tensor, out: *mut bt_work) -> bt_error;
    pub fn bt_work_wait(w: bt_work) -> bt_error;
    pub fn bt_work_free(w: bt_work);

    pub fn bt_tensor_register_grad_hook(
        t: bt_tensor,
        hook: bt_grad_hook,
        data: *mut c_void,
        handle: *mut c_uint,
    ) -> bt_error;
    pub fn bt_tensor_remove_grad_hook(t: bt_tensor, handle: c_uint) -> bt_error;
}
