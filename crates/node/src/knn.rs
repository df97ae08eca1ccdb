//! Embeddings and kNN evaluation, run natively on the model's device.
use crate::dataset;
use crate::host::HostTensor;
use crate::js::{Env, JsError, JsResult, Value};
use crate::model;
use crate::options::Options;
use crate::task::{finish, lock, spawn, Finish};
use byol::knn::{embed_images, knn_evaluate, KnnConfig};
use torch::{Device, Kind};

fn knn_config(o: &Options) -> JsResult<KnnConfig> {
    let d = KnnConfig::default();
    Ok(KnnConfig {
        k: o.integer("k", d.k, 1, 1 << 31)?,
        temperature: o.number("temperature", d.temperature, f64::MIN_POSITIVE, f64::MAX)?,
        batch_size: o.integer("batchSize", d.batch_size, 1, 1 << 20)?,
        chunk: o.integer("chunk", d.chunk, 1, 1 << 20)?,
    })
}

/// `byolEmbedImages(model, { data: Uint8Array, shape: [N, H, W, 3] }, { batchSize, normalize })`
/// -> `Promise<{ data: Float32Array, shape: [N, F] }>`: backbone features in eval mode.
pub fn embed_uint8(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = model::handle(env, args[0])?;
    let images = HostTensor::from_js_of(env, args[1], "images", Kind::Uint8)?;
    if images.shape.len() != 4 || images.shape[3] != 3 {
        return Err(JsError::range_error(format!("images: expected [N, H, W, 3] (uint8 RGB), got {:?}", images.shape)));
    }
    let (batch_size, normalize) = embed_options(env, args[2])?;
    let m = h.training.clone();
    spawn(env, "byol.embedImages", move || {
        let features = embed_images(lock(&m).model(), &images.to_tensor(Device::Cpu)?, batch_size, normalize)?;
        features_to_js(&features)
    })
}

/// `{ batchSize = 256, normalize = false }`
fn embed_options(env: &Env, value: Value) -> JsResult<(i64, bool)> {
    let o = Options::new(env, value, "options")?;
    Ok((o.integer("batchSize", 256, 1, 1 << 20)?, o.boolean("normalize", false)?))
}

fn features_to_js(features: &torch::Tensor) -> JsResult<Finish> {
    let host = HostTensor::from_tensor(features)?;
    finish(move |env| host.to_js(env))
}

/// `byolEmbedDataset(model, dataset, { batchSize, normalize })` -> `Promise<Tensor [N, F]>`
pub fn embed_dataset_js(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = model::handle(env, args[0])?;
    let d = dataset::handle(env, args[1], "dataset")?;
    let (batch_size, normalize) = embed_options(env, args[2])?;
    let (m, ds) = (h.training.clone(), d.dataset.clone());
    spawn(env, "byol.embedDataset", move || {
        let (training, ds) = (lock(&m), lock(&ds));
        features_to_js(&embed_images(training.model(), ds.images(), batch_size, normalize)?)
    })
}

/// `byolKnnEvaluate(model, train, test, { k, temperature, batchSize, chunk })`
/// -> `Promise<{ top1, correct, total, predictions: BigInt64Array tensor }>`
pub fn evaluate(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = model::handle(env, args[0])?;
    let train = dataset::handle(env, args[1], "train")?;
    let test = dataset::handle(env, args[2], "test")?;
    if !train.labelled || !test.labelled {
        return Err(JsError::type_error("kNN evaluation needs labelled train and test data"));
    }
    let config = knn_config(&Options::new(env, args[3], "options")?)?;
    let (m, a, b) = (h.training.clone(), train.dataset.clone(), test.dataset.clone());
    spawn(env, "byol.knnEvaluate", move || {
        let training = lock(&m);
        let report = {
            let (train, test) = (lock(&a), lock(&b));
            knn_evaluate(training.model(), &train, &test, config)?
        };
        let predictions = HostTensor {
            kind: Kind::Int64,
            shape: vec![report.predictions.len() as i64],
            bytes: report.predictions.iter().flat_map(|p| p.to_ne_bytes()).collect(),
        };
        finish(move |env| {
            let o = env.object()?;
            env.set(o, "top1", env.number(report.top1)?)?;
            env.set(o, "correct", env.number(report.correct as f64)?)?;
            env.set(o, "total", env.number(report.total as f64)?)?;
            env.set(o, "predictions", predictions.to_js(env)?)?;
            Ok(o)
        })
    })
}

/// `knnPredict(bank, bankLabels, queries, { numClasses, k, temperature, chunk })`
/// -> `Promise<{ predictions, scores }>`: rows are L2-normalised, then classified by the
/// weighted vote of the k most cosine-similar bank rows, on the CPU.
pub fn predict(env: &Env, args: &[Value]) -> JsResult<Value> {
    let bank = HostTensor::from_js_of(env, args[0], "bank", Kind::Float)?;
    let labels = HostTensor::from_js_of(env, args[1], "bankLabels", Kind::Int64)?;
    let queries = HostTensor::from_js_of(env, args[2], "queries", Kind::Float)?;
    if bank.shape.len() != 2 || queries.shape.len() != 2 || bank.shape[1] != queries.shape[1] {
        return Err(JsError::range_error(format!(
            "bank and queries must be [N, D] and [M, D], got {:?} and {:?}",
            bank.shape, queries.shape
        )));
    }
    if labels.shape != [bank.shape[0]] {
        return Err(JsError::range_error(format!(
            "bankLabels: {} bank rows but labels of shape {:?}",
            bank.shape[0], labels.shape
        )));
    }
    let o = Options::new(env, args[3], "options")?;
    let num_classes = o.required_number("numClasses", 1.0, 2f64.powi(31))?;
    if num_classes.fract() != 0.0 {
        return Err(JsError::range_error(format!("options.numClasses must be an integer, got {num_classes}")));
    }
    let num_classes = num_classes as i64;
    let config = knn_config(&o)?;
    spawn(env, "byol.knnPredict", move || {
        let bank = bank.to_tensor(Device::Cpu)?.l2_normalize_rows(1e-12)?;
        let queries = queries.to_tensor(Device::Cpu)?.l2_normalize_rows(1e-12)?;
        let labels = labels.to_tensor(Device::Cpu)?;
        let params =
            torch::KnnParams { num_classes, k: config.k, temperature: config.temperature, chunk: config.chunk };
        let (preds, scores) = torch::knn_classify(&bank, &labels, &queries, params)?;
        let (preds, scores) = (HostTensor::from_tensor(&preds)?, HostTensor::from_tensor(&scores)?);
        finish(move |env| {
            let o = env.object()?;
            env.set(o, "predictions", preds.to_js(env)?)?;
            env.set(o, "scores", scores.to_js(env)?)?;
            Ok(o)
        })
    })
}
