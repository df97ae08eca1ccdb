//! Bootstrap Your Own Latent (Grill et al., 2020) on libtorch, following Lightly's modules:
//! a ResNet-18 backbone, projection and prediction heads, the symmetrised negative-cosine loss,
//! the momentum (target) network's EMA update and its cosine schedule, and one training step.
pub mod augment;
pub mod data_parallel;
pub mod dataset;
pub mod heads;
pub mod knn;
pub mod loss;
pub mod model;
pub mod momentum;
pub mod resnet;
pub mod schedule;
pub mod step;
pub mod trainer;

pub use heads::{HeadConfig, MlpHead};
pub use model::{Byol, ByolConfig, Network, Part};
pub use resnet::{ResNet18, Stem};
pub use step::{Precision, StepOptions, TrainStep};
pub use trainer::{GraphMode, QueuedLosses, Trainer, TrainerOptions};
