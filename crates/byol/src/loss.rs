//! BYOL's loss: the negative cosine similarity between the online prediction and the target
//! projection of the other view, symmetrised over the two views.
use torch::{Result, Tensor};

const EPS: f64 = 1e-8;

/// `-cos(x0, x1).mean()` over the feature dimension (Lightly's NegativeCosineSimilarity).
pub fn negative_cosine_similarity(x0: &Tensor, x1: &Tensor) -> Result<Tensor> {
    x0.cosine_similarity(x1, 1, EPS)?.mean()?.mul_scalar(-1.0)
}

/// `0.5 * (L(p0, z1) + L(p1, z0))`: each view's prediction is pulled towards the target network's
/// projection of the other view. The `z` must already be detached.
pub fn byol_loss(p0: &Tensor, z0: &Tensor, p1: &Tensor, z1: &Tensor) -> Result<Tensor> {
    negative_cosine_similarity(p0, z1)?.add(&negative_cosine_similarity(p1, z0)?)?.mul_scalar(0.5)
}
