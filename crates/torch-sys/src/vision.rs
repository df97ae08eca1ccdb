//! Declarations of `libtch/byol_vision.h`: generic primitives for batched image augmentation and
//! the state of random generators. Keep in step with the header.
use crate::{bt_error, bt_generator, bt_tensor};
use std::os::raw::{c_double, c_int};

pub const BT_UNARY_ABS: c_int = 0;
pub const BT_UNARY_NEG: c_int = 1;
pub const BT_UNARY_FLOOR: c_int = 2;
pub const BT_UNARY_CEIL: c_int = 3;
pub const BT_UNARY_ROUND: c_int = 4;
pub const BT_UNARY_EXP: c_int = 5;
pub const BT_UNARY_LOG: c_int = 6;
pub const BT_UNARY_SQRT: c_int = 7;
pub const BT_UNARY_RECIPROCAL: c_int = 8;
pub const BT_UNARY_LOGICAL_NOT: c_int = 9;
pub const BT_UNARY_SIN: c_int = 10;
pub const BT_UNARY_COS: c_int = 11;
pub const BT_UNARY_SIGN: c_int = 12;

pub const BT_BINARY_ADD: c_int = 0;
pub const BT_BINARY_SUB: c_int = 1;
pub const BT_BINARY_MUL: c_int = 2;
pub const BT_BINARY_DIV: c_int = 3;
pub const BT_BINARY_MINIMUM: c_int = 4;
pub const BT_BINARY_MAXIMUM: c_int = 5;
pub const BT_BINARY_EQ: c_int = 6;
pub const BT_BINARY_NE: c_int = 7;
pub const BT_BINARY_LT: c_int = 8;
pub const BT_BINARY_LE: c_int = 9;
pub const BT_BINARY_GT: c_int = 10;
pub const BT_BINARY_GE: c_int = 11;
pub const BT_BINARY_LOGICAL_AND: c_int = 12;
pub const BT_BINARY_LOGICAL_OR: c_int = 13;
pub const BT_BINARY_REMAINDER: c_int = 14;
pub const BT_BINARY_POW: c_int = 15;
pub const BT_BINARY_RSUB: c_int = 16;
pub const BT_BINARY_RDIV: c_int = 17;

pub const BT_REDUCE_SUM: c_int = 0;
pub const BT_REDUCE_MEAN: c_int = 1;
pub const BT_REDUCE_AMAX: c_int = 2;
pub const BT_REDUCE_AMIN: c_int = 3;
pub const BT_REDUCE_ANY: c_int = 4;
pub const BT_REDUCE_ALL: c_int = 5;

pub const BT_PAD_CONSTANT: c_int = 0;
pub const BT_PAD_REPLICATE: c_int = 1;
pub const BT_PAD_REFLECT: c_int = 2;

pub const BT_SAMPLE_BILINEAR: c_int = 0;
pub const BT_SAMPLE_NEAREST: c_int = 1;
pub const BT_SAMPLE_PAD_ZEROS: c_int = 0;
pub const BT_SAMPLE_PAD_BORDER: c_int = 1;
pub const BT_SAMPLE_PAD_REFLECTION: c_int = 2;

extern "C" {
    pub fn bt_generator_get_state(g: bt_generator, out: *mut bt_tensor) -> bt_error;
    pub fn bt_generator_set_state(g: bt_generator, state: bt_tensor) -> bt_error;

    pub fn bt_set_thread_local_threads(n: c_int) -> bt_error;
    pub fn bt_cuda_sync_debug_mode(mode: c_int, previous: *mut c_int) -> bt_error;
    pub fn bt_tensor_data_ptr(t: bt_tensor, data: *mut *mut std::os::raw::c_void, contiguous: *mut c_int) -> bt_error;

    pub fn bt_rand(
        shape: *const i64,
        ndim: usize,
        dtype: c_int,
        device_type: c_int,
        device_index: c_int,
        g: bt_generator,
        out: *mut bt_tensor,
    ) -> bt_error;
    pub fn bt_arange(n: i64, dtype: c_int, device_type: c_int, device_index: c_int, out: *mut bt_tensor) -> bt_error;
    pub fn bt_empty(
        shape: *const i64,
        ndim: usize,
        dtype: c_int,
        device_type: c_int,
        device_index: c_int,
        out: *mut bt_tensor,
    ) -> bt_error;
    pub fn bt_to_dtype(t: bt_tensor, dtype: c_int, out: *mut bt_tensor) -> bt_error;

    pub fn bt_unary(a: bt_tensor, op: c_int, out: *mut bt_tensor) -> bt_error;
    pub fn bt_unary_(a: bt_tensor, op: c_int) -> bt_error;
    pub fn bt_binary(a: bt_tensor, b: bt_tensor, op: c_int, out: *mut bt_tensor) -> bt_error;
    pub fn bt_binary_(a: bt_tensor, b: bt_tensor, op: c_int) -> bt_error;
    pub fn bt_binary_scalar(a: bt_tensor, s: c_double, op: c_int, out: *mut bt_tensor) -> bt_error;
    pub fn bt_binary_scalar_(a: bt_tensor, s: c_double, op: c_int) -> bt_error;

    pub fn bt_clamp(
        a: bt_tensor,
        has_lo: c_int,
        lo: c_double,
        has_hi: c_int,
        hi: c_double,
        out: *mut bt_tensor,
    ) -> bt_error;
    pub fn bt_clamp_(a: bt_tensor, has_lo: c_int, lo: c_double, has_hi: c_int, hi: c_double) -> bt_error;
    pub fn bt_addcmul(s: bt_tensor, t1: bt_tensor, t2: bt_tensor, value: c_double, out: *mut bt_tensor) -> bt_error;
    pub fn bt_addcmul_(s: bt_tensor, t1: bt_tensor, t2: bt_tensor, value: c_double) -> bt_error;
    pub fn bt_addcmul_into(dst: bt_tensor, s: bt_tensor, t1: bt_tensor, t2: bt_tensor, value: c_double) -> bt_error;

    pub fn bt_reduce(
        a: bt_tensor,
        op: c_int,
        dims: *const i64,
        ndims: usize,
        keepdim: c_int,
        out: *mut bt_tensor,
    ) -> bt_error;
    pub fn bt_argmax(a: bt_tensor, dim: i64, keepdim: c_int, out: *mut bt_tensor) -> bt_error;
    pub fn bt_argsort(a: bt_tensor, dim: i64, descending: c_int, out: *mut bt_tensor) -> bt_error;

    pub fn bt_permute(a: bt_tensor, dims: *const i64, ndims: usize, out: *mut bt_tensor) -> bt_error;
    pub fn bt_transpose(a: bt_tensor, dim0: i64, dim1: i64, out: *mut bt_tensor) -> bt_error;
    pub fn bt_expand(a: bt_tensor, shape: *const i64, ndim: usize, out: *mut bt_tensor) -> bt_error;
    pub fn bt_unsqueeze(a: bt_tensor, dim: i64, out: *mut bt_tensor) -> bt_error;
    pub fn bt_flip(a: bt_tensor, dims: *const i64, ndims: usize, out: *mut bt_tensor) -> bt_error;
    pub fn bt_rot90(a: bt_tensor, k: i64, dim0: i64, dim1: i64, out: *mut bt_tensor) -> bt_error;
    pub fn bt_gather(a: bt_tensor, dim: i64, index: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_index_copy_(a: bt_tensor, dim: i64, index: bt_tensor, source: bt_tensor) -> bt_error;

    pub fn bt_bmm(a: bt_tensor, b: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_matmul(a: bt_tensor, b: bt_tensor, out: *mut bt_tensor) -> bt_error;
    pub fn bt_conv2d(
        input: bt_tensor,
        weight: bt_tensor,
        bias: bt_tensor,
        stride_h: i64,
        stride_w: i64,
        pad_h: i64,
        pad_w: i64,
        groups: i64,
        out: *mut bt_tensor,
    ) -> bt_error;
    pub fn bt_pad2d(
        a: bt_tensor,
        left: i64,
        right: i64,
        top: i64,
        bottom: i64,
        mode: c_int,
        value: c_double,
        out: *mut bt_tensor,
    ) -> bt_error;
    pub fn bt_affine_grid(
        theta: bt_tensor,
        n: i64,
        c: i64,
        h: i64,
        w: i64,
        align_corners: c_int,
        out: *mut bt_tensor,
    ) -> bt_error;
    pub fn bt_grid_sample(
        input: bt_tensor,
        grid: bt_tensor,
        mode: c_int,
        padding_mode: c_int,
        align_corners: c_int,
        out: *mut bt_tensor,
    ) -> bt_error;
}
