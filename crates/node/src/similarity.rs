//! Exact cosine top-k for the similarity index (src/serving/similarity-index.ts), in blocks of
//! query rows as the kNN evaluation does, so memory stays at `chunk x bank rows` floats.
use crate::host::HostTensor;
use crate::js::{Env, JsError, JsResult, Value};
use crate::options::Options;
use crate::task::{finish, spawn};
use torch::{Device, Kind, Tensor};

/// `similarityTopk(bank, queries, { k, chunk = 256 })` -> `Promise<{ indices, scores }>`:
/// for every query row (L2-normalised here) the `min(k, N)` bank rows (L2-normalised by the
/// caller) with the largest dot product, best first: int64 and float32 `[M, min(k, N)]`.
pub fn topk(env: &Env, args: &[Value]) -> JsResult<Value> {
    let bank = HostTensor::from_js_of(env, args[0], "bank", Kind::Float)?;
    let queries = HostTensor::from_js_of(env, args[1], "queries", Kind::Float)?;
    if bank.shape.len() != 2 || queries.shape.len() != 2 || bank.shape[1] != queries.shape[1] {
        return Err(JsError::range_error(format!(
            "bank and queries must be [N, D] and [M, D], got {:?} and {:?}",
            bank.shape, queries.shape
        )));
    }
    let o = Options::new(env, args[2], "options")?;
    let k = o.integer("k", 10, 1, 1 << 31)?.min(bank.shape[0]);
    let chunk = o.integer("chunk", 256, 1, 1 << 20)?;
    spawn(env, "byol.similarityTopk", move || {
        let bank = bank.to_tensor(Device::Cpu)?;
        let queries = queries.to_tensor(Device::Cpu)?.l2_normalize_rows(1e-12)?;
        let (indices, scores) = block_topk(&bank, &queries, k, chunk)?;
        let (indices, scores) = (HostTensor::from_tensor(&indices)?, HostTensor::from_tensor(&scores)?);
        finish(move |env| {
            let o = env.object()?;
            env.set(o, "indices", indices.to_js(env)?)?;
            env.set(o, "scores", scores.to_js(env)?)?;
            Ok(o)
        })
    })
}

fn block_topk(bank: &Tensor, queries: &Tensor, k: i64, chunk: i64) -> torch::Result<(Tensor, Tensor)> {
    let m = queries.shape()?[0];
    if k == 0 || m == 0 {
        return Ok((
            Tensor::zeros(&[m, k], Kind::Int64, Device::Cpu)?,
            Tensor::zeros(&[m, k], Kind::Float, Device::Cpu)?,
        ));
    }
    let bank_t = bank.transpose(0, 1)?;
    let (mut indices, mut scores) = (Vec::new(), Vec::new());
    let mut start = 0;
    while start < m {
        let rows = chunk.min(m - start);
        let similarity = queries.narrow(0, start, rows)?.matmul(&bank_t)?;
        // A full sort of each block row: the safe API has no topk, and bank rows are few enough
        // in a service's index that N log N per query is not what a search waits on.
        let best = similarity.argsort(1, true)?.narrow(1, 0, k)?.contiguous()?;
        scores.push(similarity.gather(1, &best)?);
        indices.push(best);
        start += rows;
    }
    Ok((Tensor::cat(&indices.iter().collect::<Vec<_>>(), 0)?, Tensor::cat(&scores.iter().collect::<Vec<_>>(), 0)?))
}
