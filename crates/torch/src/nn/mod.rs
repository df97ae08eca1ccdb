//! Layers with PyTorch's parameter names and default initialisations.
mod batch_norm;
mod conv;
mod folded_conv;
mod init;
mod linear;

pub use batch_norm::BatchNorm;
pub use conv::Conv2d;
pub use folded_conv::FoldedConv2d;
pub use linear::Linear;

/// Whether a forward pass trains (batch statistics, running-stat updates) or evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Train,
    Eval,
}
