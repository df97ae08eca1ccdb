//! Elementwise arithmetic, comparisons and functions. Each operation has one name here and one
//! way through the shim: the opcode calls of `byol_vision.h` (`bt_unary`, `bt_binary`, ...),
//! whose codes only this file uses.
use super::{produce, Tensor};
use crate::error::{check, Result};
use std::os::raw::c_int;
use torch_sys as sys;

impl Tensor {
    fn unary(&self, op: c_int) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_unary(self.raw, op, out) })
    }

    fn unary_(&self, op: c_int) -> Result<()> {
        check(unsafe { sys::bt_unary_(self.raw, op) })
    }

    fn binary(&self, other: &Tensor, op: c_int) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_binary(self.raw, other.raw, op, out) })
    }

    fn binary_(&self, other: &Tensor, op: c_int) -> Result<()> {
        check(unsafe { sys::bt_binary_(self.raw, other.raw, op) })
    }

    /// An integral `s` keeps an integer tensor integral.
    fn binary_scalar(&self, s: f64, op: c_int) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_binary_scalar(self.raw, s, op, out) })
    }

    fn binary_scalar_(&self, s: f64, op: c_int) -> Result<()> {
        check(unsafe { sys::bt_binary_scalar_(self.raw, s, op) })
    }
}

/// `name(&self)` and its in-place form `name_(&self)` for each unary opcode.
macro_rules! unary {
    ($($(#[$doc:meta])* $name:ident, $name_:ident => $code:ident;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> Result<Tensor> {
                    self.unary(sys::$code)
                }

                pub fn $name_(&self) -> Result<()> {
                    self.unary_(sys::$code)
                }
            )*
        }
    };
}

/// For each binary opcode with an in-place form: `op(&Tensor)`, `op_(&Tensor)`, `op_scalar(f64)`
/// and `op_scalar_(f64)` (tensors broadcast).
macro_rules! arithmetic {
    ($($(#[$doc:meta])* $name:ident, $name_:ident, $scalar:ident, $scalar_:ident => $code:ident;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                pub fn $name(&self, other: &Tensor) -> Result<Tensor> {
                    self.binary(other, sys::$code)
                }

                pub fn $name_(&self, other: &Tensor) -> Result<()> {
                    self.binary_(other, sys::$code)
                }

                pub fn $scalar(&self, s: f64) -> Result<Tensor> {
                    self.binary_scalar(s, sys::$code)
                }

                pub fn $scalar_(&self, s: f64) -> Result<()> {
                    self.binary_scalar_(s, sys::$code)
                }
            )*
        }
    };
}

/// For each binary opcode without an in-place form (comparisons give bool tensors): `op(&Tensor)`
/// and `op_scalar(f64)`.
macro_rules! comparison {
    ($($(#[$doc:meta])* $name:ident, $scalar:ident => $code:ident;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                pub fn $name(&self, other: &Tensor) -> Result<Tensor> {
                    self.binary(other, sys::$code)
                }

                pub fn $scalar(&self, s: f64) -> Result<Tensor> {
                    self.binary_scalar(s, sys::$code)
                }
            )*
        }
    };
}

unary! {
    abs, abs_ => BT_UNARY_ABS;
    neg, neg_ => BT_UNARY_NEG;
    floor, floor_ => BT_UNARY_FLOOR;
    ceil, ceil_ => BT_UNARY_CEIL;
    /// Half to even, as `torch.round` and Python's `round`.
    round, round_ => BT_UNARY_ROUND;
    exp, exp_ => BT_UNARY_EXP;
    log, log_ => BT_UNARY_LOG;
    sqrt, sqrt_ => BT_UNARY_SQRT;
    reciprocal, reciprocal_ => BT_UNARY_RECIPROCAL;
    logical_not, logical_not_ => BT_UNARY_LOGICAL_NOT;
    sin, sin_ => BT_UNARY_SIN;
    cos, cos_ => BT_UNARY_COS;
    /// -1, 0 or 1.
    sign, sign_ => BT_UNARY_SIGN;
}

arithmetic! {
    add, add_, add_scalar, add_scalar_ => BT_BINARY_ADD;
    sub, sub_, sub_scalar, sub_scalar_ => BT_BINARY_SUB;
    mul, mul_, mul_scalar, mul_scalar_ => BT_BINARY_MUL;
    div, div_, div_scalar, div_scalar_ => BT_BINARY_DIV;
    minimum, minimum_, minimum_scalar, minimum_scalar_ => BT_BINARY_MINIMUM;
    maximum, maximum_, maximum_scalar, maximum_scalar_ => BT_BINARY_MAXIMUM;
    /// Python's `%` (the result has the divisor's sign).
    remainder, remainder_, remainder_scalar, remainder_scalar_ => BT_BINARY_REMAINDER;
    pow, pow_, pow_scalar, pow_scalar_ => BT_BINARY_POW;
}

comparison! {
    eq, eq_scalar => BT_BINARY_EQ;
    ne, ne_scalar => BT_BINARY_NE;
    lt, lt_scalar => BT_BINARY_LT;
    le, le_scalar => BT_BINARY_LE;
    gt, gt_scalar => BT_BINARY_GT;
    ge, ge_scalar => BT_BINARY_GE;
    logical_and, logical_and_scalar => BT_BINARY_LOGICAL_AND;
    logical_or, logical_or_scalar => BT_BINARY_LOGICAL_OR;
    /// `other - self`
    rsub, rsub_scalar => BT_BINARY_RSUB;
    /// `other / self`
    rdiv, rdiv_scalar => BT_BINARY_RDIV;
}

impl Tensor {
    /// `self + alpha * other` in one kernel (`torch.add(self, other, alpha=alpha)`).
    pub fn add_scaled(&self, other: &Tensor, alpha: f64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_add_scaled(self.raw, other.raw, alpha, out) })
    }

    /// In place: `self += alpha * other`.
    pub fn add_scaled_(&self, other: &Tensor, alpha: f64) -> Result<()> {
        check(unsafe { sys::bt_add_scaled_(self.raw, other.raw, alpha) })
    }

    /// `self + value * t1 * t2`
    pub fn addcmul(&self, t1: &Tensor, t2: &Tensor, value: f64) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_addcmul(self.raw, t1.raw, t2.raw, value, out) })
    }

    pub fn addcmul_(&self, t1: &Tensor, t2: &Tensor, value: f64) -> Result<()> {
        check(unsafe { sys::bt_addcmul_(self.raw, t1.raw, t2.raw, value) })
    }

    /// Writes `self + value * t1 * t2` into `dst` (converting to its dtype).
    pub fn addcmul_into(&self, dst: &Tensor, t1: &Tensor, t2: &Tensor, value: f64) -> Result<()> {
        check(unsafe { sys::bt_addcmul_into(dst.raw, self.raw, t1.raw, t2.raw, value) })
    }

    /// Clamps to `[lo, hi]`; `None` leaves that side open.
    pub fn clamp(&self, lo: Option<f64>, hi: Option<f64>) -> Result<Tensor> {
        produce(|out| unsafe {
            sys::bt_clamp(self.raw, lo.is_some() as i32, lo.unwrap_or(0.0), hi.is_some() as i32, hi.unwrap_or(0.0), out)
        })
    }

    pub fn clamp_(&self, lo: Option<f64>, hi: Option<f64>) -> Result<()> {
        check(unsafe {
            sys::bt_clamp_(self.raw, lo.is_some() as i32, lo.unwrap_or(0.0), hi.is_some() as i32, hi.unwrap_or(0.0))
        })
    }

    /// Elementwise `cond ? a : b`.
    pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        produce(|out| unsafe { sys::bt_where(cond.raw, a.raw, b.raw, out) })
    }

    /// A float tensor of 1 where `self >= other` and 0 elsewhere (`clamp(sign(self - other) + 1)`:
    /// comparisons that produce bool tensors are several times slower on CPU in libtorch 1.13).
    pub fn at_least(&self, other: &Tensor) -> Result<Tensor> {
        let d = self.sub(other)?;
        d.sign_()?;
        d.add_scalar_(1.0)?;
        d.clamp_(None, Some(1.0))?;
        Ok(d)
    }
}
