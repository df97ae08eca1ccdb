//! How a training step computes: precision, memory format and streams. None of these change
//! what is learned beyond floating-point rounding; they change how fast it is learned.
use torch::{Device, Kind, MemoryFormat, Result, TorchError};

/// The precision a step computes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Float32,
    /// Convolutions and matrix products in bfloat16 under autocast; the weights (the optimizer's
    /// master copy), the BatchNorm statistics and the loss stay float32.
    BFloat16,
}

impl Precision {
    pub fn parse(name: &str) -> Result<Precision> {
        match name {
            "fp32" | "float32" => Ok(Precision::Float32),
            "bf16" | "bfloat16" => Ok(Precision::BFloat16),
            other => Err(TorchError::new(format!("precision must be 'fp32' or 'bf16', got '{other}'"))),
        }
    }

    /// The autocast type, if any.
    pub fn autocast(self) -> Option<Kind> {
        match self {
            Precision::Float32 => None,
            Precision::BFloat16 => Some(Kind::BFloat16),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepOptions {
    pub precision: Precision,
    /// Convolution weights and the views in channels-last layout (what cuDNN's bf16 kernels want).
    pub channels_last: bool,
    /// CUDA only: the target network's forward passes run on a second stream, concurrently with
    /// the online network's (they only meet in the loss).
    pub target_stream: bool,
    /// Both views through each network as one batch of 2N: half the kernel launches, larger
    /// kernels, but BatchNorm normalises over both views together, which the reference does not.
    pub joint_views: bool,
}

impl Default for StepOptions {
    /// Float32, contiguous, one stream, views apart: the reference's eager step.
    fn default() -> Self {
        StepOptions { precision: Precision::Float32, channels_last: false, target_stream: false, joint_views: false }
    }
}

impl StepOptions {
    pub fn validate(&self, device: Device) -> Result<()> {
        if self.target_stream && !device.is_cuda() {
            return Err(TorchError::new(format!("targetStream needs a CUDA device; the model is on {device}")));
        }
        Ok(())
    }

    pub fn memory_format(&self) -> MemoryFormat {
        if self.channels_last {
            MemoryFormat::ChannelsLast
        } else {
            MemoryFormat::Contiguous
        }
    }
}
