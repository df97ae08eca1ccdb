//! Embeddings and kNN evaluation as Lightly's benchmarks: backbone features in eval mode,
//! L2-normalised, classified by a weighted vote of the k = 200 most cosine-similar training
//! images with weights `exp(similarity / 0.1)`.
use crate::dataset::{normalize_images, ImageDataset};
use crate::model::Byol;
use torch::{knn_classify, KnnParams, Result, Tensor, TorchError};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KnnConfig {
    pub k: i64,
    pub temperature: f64,
    /// Images per forward pass when embedding.
    pub batch_size: i64,
    /// Query rows per similarity block.
    pub chunk: i64,
}

impl Default for KnnConfig {
    fn default() -> Self {
        KnnConfig { k: 200, temperature: 0.1, batch_size: 512, chunk: 256 }
    }
}

/// Backbone features (eval mode) of uint8 `[N, H, W, 3]` images, `batch_size` at a time,
/// L2-normalised when `normalize`. Stays on the model's device.
pub fn embed_images(model: &Byol, images: &Tensor, batch_size: i64, normalize: bool) -> Result<Tensor> {
    if batch_size < 1 {
        return Err(TorchError::new(format!("batch size must be positive, got {batch_size}")));
    }
    let n = images.shape()?.first().copied().unwrap_or(0);
    let device = model.config().device;
    let mut parts = Vec::new();
    let mut start = 0;
    while start < n {
        let count = batch_size.min(n - start);
        let batch = normalize_images(&images.narrow(0, start, count)?.to_device(device)?)?;
        let features = model.embed(&batch)?;
        parts.push(if normalize { features.l2_normalize_rows(1e-12)? } else { features });
        start += count;
    }
    if parts.is_empty() {
        // ResNet-18's feature width is 8x its first stage's.
        return Tensor::zeros(&[0, 8 * model.config().width], torch::Kind::Float, device);
    }
    Tensor::cat(&parts.iter().collect::<Vec<_>>(), 0)
}

/// Normalised features of every image of a dataset.
pub fn embed_dataset(model: &Byol, dataset: &ImageDataset, batch_size: i64) -> Result<Tensor> {
    embed_images(model, dataset.images(), batch_size, true)
}

/// The outcome of one kNN evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct KnnReport {
    pub top1: f64,
    pub correct: i64,
    pub total: i64,
    pub predictions: Vec<i64>,
}

/// Classifies L2-normalised `queries` against a labelled bank of L2-normalised features.
pub fn knn_predict(
    bank: &Tensor,
    bank_labels: &Tensor,
    queries: &Tensor,
    num_classes: i64,
    config: KnnConfig,
) -> Result<Tensor> {
    let params = KnnParams { num_classes, k: config.k, temperature: config.temperature, chunk: config.chunk };
    Ok(knn_classify(bank, bank_labels, queries, params)?.0)
}

/// kNN top-1 accuracy of `test` against `train` (both labelled) with the model's current
/// backbone.
pub fn knn_evaluate(model: &Byol, train: &ImageDataset, test: &ImageDataset, config: KnnConfig) -> Result<KnnReport> {
    let (bank_labels, test_labels) = match (train.labels(), test.labels()) {
        (Some(a), Some(b)) => (a, b),
        _ => return Err(TorchError::new("kNN evaluation needs labels on both the train and the test data")),
    };
    if test.is_empty() {
        return Err(TorchError::new("kNN evaluation: the test data is empty"));
    }
    let num_classes = train.num_classes().max(test.num_classes());
    let bank = embed_dataset(model, train, config.batch_size)?;
    let queries = embed_dataset(model, test, config.batch_size)?;
    let predictions = knn_predict(&bank, bank_labels, &queries, num_classes, config)?.to_device(torch::Device::Cpu)?;
    let predictions: Vec<i64> = bytes_to_i64(&predictions.to_bytes()?);
    let truth = bytes_to_i64(&test_labels.to_device(torch::Device::Cpu)?.to_bytes()?);
    let correct = predictions.iter().zip(&truth).filter(|(p, t)| p == t).count() as i64;
    let total = truth.len() as i64;
    Ok(KnnReport { top1: correct as f64 / total as f64, correct, total, predictions })
}

fn bytes_to_i64(bytes: &[u8]) -> Vec<i64> {
    bytes.chunks_exact(8).map(|c| i64::from_ne_bytes(c.try_into().expect("8 bytes"))).collect()
}
