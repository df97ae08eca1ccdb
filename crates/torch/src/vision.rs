//! Safe wrappers over `libtch/byol_vision.h`: generic elementwise, reduction, layout, matrix and
//! sampling operations that the batched augmentations compose, and generator state.
//!
//! None of these read tensor values on the host, so code built from them never waits for a CUDA
//! device.
use crate::device::{Device, Kind};
use crate::error::{check, Result};
use crate::generator::Generator;
use crate::tensor::{produce, Tensor};
use std::ptr::null_mut;
use torch_sys as sys;

/// Elementwise functions of one tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unary {
    Abs,
    Neg,
    Floor,
    Ceil,
    /// Half to even, as `torch.round` and Python's `round`.
    Round,
    Exp,
    Log,
    Sqrt,
    Reciprocal,
    LogicalNot,
    Sin,
    Cos,
    /// -1, 0 or 1.
    Sign,
}

impl Unary {
    fn code(self) -> i32 {
        match self {
            Unary::Abs => sys::BT_UNARY_ABS,
            Unary::Neg => sys::BT_UNARY_NEG,
            Unary::Floor => sys::BT_UNARY_FLOOR,
            Unary::Ceil => sys::BT_UNARY_CEIL,
            Unary::Round => sys::BT_UNARY_ROUND,
            Unary::Exp => sys::BT_UNARY_EXP,
            Unary::Log => sys::BT_UNARY_LOG,
            Unary::Sqrt => sys::BT_UNARY_SQRT,
            Unary::Reciprocal => sys::BT_UNARY_RECIPROCAL,
            Unary::LogicalNot => sys::BT_UNARY_LOGICAL_NOT,
            Unary::Sin => sys::BT_UNARY_SIN,
            Unary::Cos => sys::BT_UNARY_COS,
            Unary::Sign => sys::BT_UNARY_SIGN,
        }
    }
}

/// Elementwise functions of two operands (tensors broadcast; comparisons give bool tensors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Minimum,
    Maximum,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LogicalAnd,
    LogicalOr,
    /// Python's `%` (the result has the divisor's sign).
    Remainder,
    Pow,
    /// `b - a`
    RSub,
    /// `b / a`
    RDiv,
}

impl Binary {
    fn code(self) -> i32 {
        match self {
            Binary::Add => sys::BT_BINARY_ADD,
            Binary::Sub => sys::BT_BINARY_SUB,
            Binary::Mul => sys::BT_BINARY_MUL,
            Binary::Div => sys::BT_BINARY_DIV,
            Binary::Minimum => sys::BT_BINARY_MINIMUM,
            Binary::Maximum => sys::BT_BINARY_MAXIMUM,
            Binary::Eq => sys::BT_BINARY_EQ,
            Binary::Ne => sys::BT_BINARY_NE,
            Binary::Lt => sys::BT_BINARY_LT,
            Binary::Le => sys::BT_BINARY_LE,
            Binary::Gt => sys::BT_BINARY_GT,
            Binary::Ge => sys::BT_BINARY_GE,
            Binary::LogicalAnd => sys::BT_BINARY_LOGICAL_AND,
            Binary::LogicalOr => sys::BT_BINARY_LOGICAL_OR,
            Binary::Remainder => sys::BT_BINARY_REMAINDER,
            Binary::Pow => sys::BT_BINARY_POW,
            Binary::RSub => sys::BT_BINARY_RSUB,
            Binary::RDiv => sys::BT_BINARY_RDIV,
        }
    }
}

/// Reductions over a list of dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduce {
    Sum,
    Mean,
    Amax,
    Amin,
    Any,
    All,
}

impl Reduce {
    fn code(self) -> i32 {
        match self {
            Reduce::Sum => sys::BT_REDUCE_SUM,
            Reduce::Mean => sys::BT_REDUCE_MEAN,
            Reduce::Amax => sys::BT_REDUCE_AMAX,
            Reduce::Amin => sys::BT_REDUCE_AMIN,
            Reduce::Any => sys::BT_REDUCE_ANY,
            Reduce::All => sys::BT_REDUCE_ALL,
        }
    }
}

/// How `pad2d` fills the border.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Padding {
    Constant(f64),
    /// Repeats the edge pixel (PIL's box blur, `F.pad(mode="replicate")`).
    Replicate,
    /// Mirrors without repeating the edge (`F.pad(mode="reflect")`).
    Reflect,
}

/// `grid_sample` interpolation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    Bilinear,
    Nearest,
}

/// `grid_sample` handling of coordinates outside the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplePadding {
    Zeros,
    Border,
    Reflection,
}

fn one(f: impl FnOnce(*mut sys::bt_tensor) -> sys::bt_error) -> Result<Tensor> {
    produce(f)
}

/// Intra-op threads of the calling thread only (libtorch's global setting and other threads are
/// unchanged): lets several threads each run small operations single-threaded, side by side.
pub fn set_thread_local_threads(n: usize) -> Result<()> {
    check(unsafe { sys::bt_set_thread_local_threads(n as i32) })
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

/// Modes of [`cuda_sync_debug_mode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncDebug {
    Off = 0,
    Warn = 1,
    Error = 2,
}

impl Generator {
    /// The generator's state as a uint8 CPU tensor (libtorch's layout for its device), to save
    /// with a checkpoint.
    pub fn state(&self) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_generator_get_state(self.raw, out) })
    }

    /// Restores a state from [`Generator::state`] of a generator on the same kind of device.
    pub fn set_state(&self, state: &Tensor) -> Result<()> {
        check(unsafe { sys::bt_generator_set_state(self.raw, state.raw) })
    }
}

impl Tensor {
    /// The address of the first element when the tensor is contiguous (row-major), else `None`.
    /// The memory is the tensor's: valid while this handle (or an alias) lives, and on the
    /// tensor's device.
    pub fn contiguous_data_ptr(&self) -> Result<Option<*mut std::os::raw::c_void>> {
        let (mut data, mut contiguous) = (null_mut(), 0);
        check(unsafe { sys::bt_tensor_data_ptr(self.raw, &mut data, &mut contiguous) })?;
        Ok((contiguous != 0).then_some(data))
    }

    /// Uniform `[0, 1)` values drawn from `generator` on `device`.
    pub fn rand(shape: &[i64], kind: Kind, device: Device, generator: &Generator) -> Result<Tensor> {
        let (dt, di) = device.raw();
        one(|out| unsafe { sys::bt_rand(shape.as_ptr(), shape.len(), kind.raw(), dt, di, generator.raw, out) })
    }

    /// `0, 1, ..., n - 1`
    pub fn arange(n: i64, kind: Kind, device: Device) -> Result<Tensor> {
        let (dt, di) = device.raw();
        one(|out| unsafe { sys::bt_arange(n, kind.raw(), dt, di, out) })
    }

    /// An uninitialised contiguous tensor.
    pub fn empty(shape: &[i64], kind: Kind, device: Device) -> Result<Tensor> {
        let (dt, di) = device.raw();
        one(|out| unsafe { sys::bt_empty(shape.as_ptr(), shape.len(), kind.raw(), dt, di, out) })
    }

    /// A copy in another dtype on the same device (without asking the tensor where it lives).
    pub fn cast(&self, kind: Kind) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_to_dtype(self.raw, kind.raw(), out) })
    }

    pub fn unary(&self, op: Unary) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_unary(self.raw, op.code(), out) })
    }

    pub fn unary_(&self, op: Unary) -> Result<()> {
        check(unsafe { sys::bt_unary_(self.raw, op.code()) })
    }

    pub fn binary(&self, other: &Tensor, op: Binary) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_binary(self.raw, other.raw, op.code(), out) })
    }

    /// In place: `self = self op other` (arithmetic, minimum, maximum, remainder, pow).
    pub fn binary_(&self, other: &Tensor, op: Binary) -> Result<()> {
        check(unsafe { sys::bt_binary_(self.raw, other.raw, op.code()) })
    }

    /// `self op s`; an integral `s` keeps an integer tensor integral.
    pub fn binary_scalar(&self, s: f64, op: Binary) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_binary_scalar(self.raw, s, op.code(), out) })
    }

    pub fn binary_scalar_(&self, s: f64, op: Binary) -> Result<()> {
        check(unsafe { sys::bt_binary_scalar_(self.raw, s, op.code()) })
    }

    pub fn floor(&self) -> Result<Tensor> {
        self.unary(Unary::Floor)
    }

    pub fn abs(&self) -> Result<Tensor> {
        self.unary(Unary::Abs)
    }

    pub fn minimum(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Binary::Minimum)
    }

    pub fn maximum(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Binary::Maximum)
    }

    /// `s - self`
    pub fn rsub_scalar(&self, s: f64) -> Result<Tensor> {
        self.binary_scalar(s, Binary::RSub)
    }

    /// A float tensor of 1 where `self >= other` and 0 elsewhere (`clamp(sign(self - other) + 1)`:
    /// comparisons that produce bool tensors are several times slower on CPU in libtorch 1.13).
    pub fn at_least(&self, other: &Tensor) -> Result<Tensor> {
        let d = self.binary(other, Binary::Sub)?;
        d.unary_(Unary::Sign)?;
        d.binary_scalar_(1.0, Binary::Add)?;
        d.clamp_(None, Some(1.0))?;
        Ok(d)
    }

    /// A float 0/1 tensor: `self < s`.
    pub fn lt_scalar_f(&self, s: f64) -> Result<Tensor> {
        self.binary_scalar(s, Binary::Lt)?.cast(Kind::Float)
    }

    /// Clamps to `[lo, hi]`; `None` leaves that side open.
    pub fn clamp(&self, lo: Option<f64>, hi: Option<f64>) -> Result<Tensor> {
        one(|out| unsafe {
            sys::bt_clamp(self.raw, lo.is_some() as i32, lo.unwrap_or(0.0), hi.is_some() as i32, hi.unwrap_or(0.0), out)
        })
    }

    pub fn clamp_(&self, lo: Option<f64>, hi: Option<f64>) -> Result<()> {
        check(unsafe {
            sys::bt_clamp_(self.raw, lo.is_some() as i32, lo.unwrap_or(0.0), hi.is_some() as i32, hi.unwrap_or(0.0))
        })
    }

    /// `self + value * t1 * t2`
    pub fn addcmul(&self, t1: &Tensor, t2: &Tensor, value: f64) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_addcmul(self.raw, t1.raw, t2.raw, value, out) })
    }

    pub fn addcmul_(&self, t1: &Tensor, t2: &Tensor, value: f64) -> Result<()> {
        check(unsafe { sys::bt_addcmul_(self.raw, t1.raw, t2.raw, value) })
    }

    /// Writes `self + value * t1 * t2` into `dst` (converting to its dtype).
    pub fn addcmul_into(&self, dst: &Tensor, t1: &Tensor, t2: &Tensor, value: f64) -> Result<()> {
        check(unsafe { sys::bt_addcmul_into(dst.raw, self.raw, t1.raw, t2.raw, value) })
    }

    /// `self + weight * (end - self)`
    pub fn lerp(&self, end: &Tensor, weight: &Tensor) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_lerp(self.raw, end.raw, weight.raw, out) })
    }

    pub fn reduce(&self, op: Reduce, dims: &[i64], keepdim: bool) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_reduce(self.raw, op.code(), dims.as_ptr(), dims.len(), keepdim as i32, out) })
    }

    /// Maximum over `dim`: the values and the (int64) index of the first maximum.
    pub fn max_dim(&self, dim: i64, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let (mut values, mut indices) = (null_mut(), null_mut());
        check(unsafe { sys::bt_max_dim(self.raw, dim, keepdim as i32, &mut values, &mut indices) })?;
        Ok((Tensor { raw: values }, Tensor { raw: indices }))
    }

    /// Index (int64) of the first maximum over `dim`.
    pub fn argmax(&self, dim: i64, keepdim: bool) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_argmax(self.raw, dim, keepdim as i32, out) })
    }

    pub fn argsort(&self, dim: i64, descending: bool) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_argsort(self.raw, dim, descending as i32, out) })
    }

    pub fn permute(&self, dims: &[i64]) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_permute(self.raw, dims.as_ptr(), dims.len(), out) })
    }

    pub fn transpose(&self, dim0: i64, dim1: i64) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_transpose(self.raw, dim0, dim1, out) })
    }

    pub fn expand(&self, shape: &[i64]) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_expand(self.raw, shape.as_ptr(), shape.len(), out) })
    }

    pub fn unsqueeze(&self, dim: i64) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_unsqueeze(self.raw, dim, out) })
    }

    pub fn squeeze_dim(&self, dim: i64) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_squeeze_dim(self.raw, dim, out) })
    }

    pub fn flip(&self, dims: &[i64]) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_flip(self.raw, dims.as_ptr(), dims.len(), out) })
    }

    /// Rotates by `k` quarter turns from `dim0` towards `dim1` (`torch.rot90`).
    pub fn rot90(&self, k: i64, dim0: i64, dim1: i64) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_rot90(self.raw, k, dim0, dim1, out) })
    }

    pub fn gather(&self, dim: i64, index: &Tensor) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_gather(self.raw, dim, index.raw, out) })
    }

    /// In place: `self[index[i]] = source[i]` along `dim` (`index` int64).
    pub fn index_copy_(&self, dim: i64, index: &Tensor, source: &Tensor) -> Result<()> {
        check(unsafe { sys::bt_index_copy_(self.raw, dim, index.raw, source.raw) })
    }

    /// Batched matrix product `[B, n, m] x [B, m, p]`.
    pub fn bmm(&self, other: &Tensor) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_bmm(self.raw, other.raw, out) })
    }

    /// Matrix product with numpy broadcasting (`torch.matmul`).
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_matmul(self.raw, other.raw, out) })
    }

    /// `F.conv2d(self, weight, bias, stride, padding, groups=groups)`
    pub fn conv2d_groups(&self, weight: &Tensor, bias: Option<&Tensor>, stride: [i64; 2], padding: [i64; 2], groups: i64) -> Result<Tensor> {
        let bias = bias.map_or(null_mut(), |b| b.raw);
        one(|out| unsafe {
            sys::bt_conv2d_groups(self.raw, weight.raw, bias, stride[0], stride[1], padding[0], padding[1], groups, out)
        })
    }

    /// Pads the last two dimensions of a 4-d tensor by `[left, right, top, bottom]`.
    pub fn pad2d(&self, pads: [i64; 4], mode: Padding) -> Result<Tensor> {
        let (code, value) = match mode {
            Padding::Constant(v) => (sys::BT_PAD_CONSTANT, v),
            Padding::Replicate => (sys::BT_PAD_REPLICATE, 0.0),
            Padding::Reflect => (sys::BT_PAD_REFLECT, 0.0),
        };
        one(|out| unsafe { sys::bt_pad2d(self.raw, pads[0], pads[1], pads[2], pads[3], code, value, out) })
    }

    /// `F.affine_grid(theta, [n, c, h, w], align_corners)`
    pub fn affine_grid(theta: &Tensor, size: [i64; 4], align_corners: bool) -> Result<Tensor> {
        one(|out| unsafe { sys::bt_affine_grid(theta.raw, size[0], size[1], size[2], size[3], align_corners as i32, out) })
    }

    /// `F.grid_sample(self, grid, mode, padding_mode, align_corners)`
    pub fn grid_sample(&self, grid: &Tensor, mode: Sampling, padding: SamplePadding, align_corners: bool) -> Result<Tensor> {
        let mode = match mode {
            Sampling::Bilinear => sys::BT_SAMPLE_BILINEAR,
            Sampling::Nearest => sys::BT_SAMPLE_NEAREST,
        };
        let padding = match padding {
            SamplePadding::Zeros => sys::BT_SAMPLE_PAD_ZEROS,
            SamplePadding::Border => sys::BT_SAMPLE_PAD_BORDER,
            SamplePadding::Reflection => sys::BT_SAMPLE_PAD_REFLECTION,
        };
        one(|out| unsafe { sys::bt_grid_sample(self.raw, grid.raw, mode, padding, align_corners as i32, out) })
    }
}
