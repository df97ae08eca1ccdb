use crate::error::{Result, TorchError};
use std::fmt;
use std::os::raw::c_int;
use torch_sys as sys;

/// Where a tensor lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Cpu,
    Cuda(usize),
}

impl Device {
    pub(crate) fn raw(self) -> (c_int, c_int) {
        match self {
            Device::Cpu => (sys::BT_CPU, 0),
            Device::Cuda(i) => (sys::BT_CUDA, i as c_int),
        }
    }

    pub(crate) fn from_raw(kind: c_int, index: c_int) -> Device {
        if kind == sys::BT_CUDA {
            Device::Cuda(index as usize)
        } else {
            Device::Cpu
        }
    }

    /// Parses `cpu`, `cuda` or `cuda:N`.
    pub fn parse(text: &str) -> Result<Device> {
        match text {
            "cpu" => Ok(Device::Cpu),
            "cuda" => Ok(Device::Cuda(0)),
            _ => text
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Device::Cuda)
                .ok_or_else(|| TorchError::new(format!("unknown device '{text}' (expected cpu, cuda or cuda:N)"))),
        }
    }

    pub fn is_cuda(self) -> bool {
        matches!(self, Device::Cuda(_))
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

/// Element types the project uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Uint8,
    Int64,
    Float,
    BFloat16,
    Bool,
    Double,
    Half,
}

impl Kind {
    pub(crate) fn raw(self) -> c_int {
        match self {
            Kind::Uint8 => sys::BT_U8,
            Kind::Int64 => sys::BT_I64,
            Kind::Float => sys::BT_F32,
            Kind::BFloat16 => sys::BT_BF16,
            Kind::Bool => sys::BT_BOOL,
            Kind::Double => sys::BT_F64,
            Kind::Half => sys::BT_F16,
        }
    }

    pub(crate) fn from_raw(code: c_int) -> Result<Kind> {
        Ok(match code {
            sys::BT_U8 => Kind::Uint8,
            sys::BT_I64 => Kind::Int64,
            sys::BT_F32 => Kind::Float,
            sys::BT_BF16 => Kind::BFloat16,
            sys::BT_BOOL => Kind::Bool,
            sys::BT_F64 => Kind::Double,
            sys::BT_F16 => Kind::Half,
            other => return Err(TorchError::new(format!("unknown dtype code {other}"))),
        })
    }

    pub fn element_size(self) -> usize {
        match self {
            Kind::Uint8 | Kind::Bool => 1,
            Kind::BFloat16 | Kind::Half => 2,
            Kind::Float => 4,
            Kind::Int64 | Kind::Double => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Uint8 => "uint8",
            Kind::Int64 => "int64",
            Kind::Float => "float32",
            Kind::BFloat16 => "bfloat16",
            Kind::Bool => "bool",
            Kind::Double => "float64",
            Kind::Half => "float16",
        }
    }
}
