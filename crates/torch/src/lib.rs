//! Safe Rust over the libtorch shim (`torch-sys`).
//!
//! Tensors own a libtorch handle and free it on drop; every fallible call returns
//! `Result<_, TorchError>` carrying libtorch's own message.
mod amp;
pub mod cuda;
mod device;
pub mod distributed;
mod error;
mod generator;
mod grad;
pub mod jpeg;
mod knn;
pub mod nn;
pub mod optim;
mod platform;
mod runtime;
mod store;
mod tensor;

pub use amp::{autocast, autocast_enabled, set_cudnn_benchmark, set_cudnn_deterministic, Autocast, MemoryFormat};
pub use device::{Device, Kind};
pub use error::{Result, TorchError};
pub use generator::Generator;
pub use grad::{grad_enabled, no_grad, NoGradGuard};
pub use knn::{knn_classify, KnnParams};
pub use platform::{blas, onednn_isa, BlasInfo, OnednnIsa};
pub use runtime::{
    cuda_device_count, cuda_synchronize, init, init_thread, live_tensors, num_threads, set_num_threads,
    set_thread_local_threads, version,
};
pub use store::{Entry, ParamStore, Path, Role};
pub use tensor::{foreach, onednn_available, GradHook, ImageLayout, Padding, SamplePadding, Sampling, Tensor};
