//! Data-parallel training over PyTorch's c10d: each rank trains on its own slice of every global
//! batch with a replica of the model, and the replicas stay identical.
mod group;
mod replicas;

pub use group::{Group, Rendezvous};
pub use replicas::{CommTime, Replicas, DEFAULT_BUCKET_BYTES};
