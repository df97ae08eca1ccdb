//! Keeps the model's replicas on every rank identical, as PyTorch's DistributedDataParallel does:
//! rank 0's weights, BatchNorm statistics and optimizer state at the start; gradients averaged
//! over the ranks by bucketed all-reduce before every optimizer step; rank 0's BatchNorm
//! statistics after every step (each rank's batches move its own, as with DDP's
//! `broadcast_buffers`). The target network needs nothing more: its momentum update only reads
//! weights that are already identical.
use super::Group;
use std::sync::Arc;
use std::time::{Duration, Instant};
use torch::distributed::Work;
use torch::{foreach, Kind, Result, Tensor, TorchError};

/// PyTorch DDP's default bucket size: large enough to amortise a collective's latency, small
/// enough that the first buckets go out while the rest are still being packed.
pub const DEFAULT_BUCKET_BYTES: usize = 25 << 20;

/// Where each gradient lives in the flat buffers that are all-reduced.
struct Bucket {
    flat: Tensor,
    /// (index into the gradient list, offset, element count)
    members: Vec<(usize, i64, i64)>,
}

/// Time spent in collectives, for the benchmark's share of a step.
#[derive(Debug, Clone, Copy, Default)]
pub struct CommTime {
    pub steps: u64,
    pub all_reduce: Duration,
    pub broadcast: Duration,
}

pub struct Replicas {
    group: Arc<Group>,
    bucket_bytes: usize,
    buckets: Vec<Bucket>,
    /// The shapes the buckets were laid out for.
    layout: Vec<Vec<i64>>,
    /// Both networks' BatchNorm statistics, grouped by dtype as one flat broadcast each.
    statistics: Vec<Vec<Tensor>>,
    time: CommTime,
}

impl Replicas {
    pub fn new(group: Arc<Group>, statistics: Vec<Tensor>, bucket_bytes: usize) -> Result<Replicas> {
        Ok(Replicas {
            group,
            bucket_bytes: bucket_bytes.max(1),
            buckets: Vec::new(),
            layout: Vec::new(),
            statistics: by_kind(statistics)?,
            time: CommTime::default(),
        })
    }

    pub fn group(&self) -> &Arc<Group> {
        &self.group
    }

    pub fn comm_time(&self) -> CommTime {
        self.time
    }

    /// Every rank takes rank 0's values of `tensors` (flattened by dtype into few collectives).
    pub fn broadcast(&self, tensors: &[Tensor]) -> Result<()> {
        for same_kind in by_kind(tensors.iter().map(|t| t.alias()).collect::<Result<_>>()?)? {
            broadcast_flat(&self.group, &same_kind)?;
        }
        Ok(())
    }

    /// Averages `grads` over the ranks in place, with `loss` (a 0-d tensor) riding along in the
    /// first bucket; returns the ranks' mean loss.
    pub fn average_gradients(&mut self, grads: &[Tensor], loss: &Tensor) -> Result<Tensor> {
        let started = Instant::now();
        let shapes = grads.iter().map(|g| g.shape()).collect::<Result<Vec<_>>>()?;
        if shapes != self.layout {
            self.lay_out(grads, &shapes)?;
        }
        let loss_at = 0;
        let mut works: Vec<Work> = Vec::with_capacity(self.buckets.len());
        for (b, bucket) in self.buckets.iter().enumerate() {
            for &(i, offset, n) in &bucket.members {
                bucket.flat.narrow(0, offset, n)?.copy_(&grads[i].reshape(&[n])?)?;
            }
            if b == 0 {
                bucket.flat.narrow(0, loss_at, 1)?.copy_(&loss.reshape(&[1])?)?;
            }
            // Gloo works through queued collectives on its own threads while the next bucket is packed.
            works.push(self.group.process_group().all_reduce_sum(&bucket.flat)?);
        }
        for w in works {
            w.wait().map_err(|e| self.group.explain(e, "the gradient all-reduce"))?;
        }
        let scale = 1.0 / self.group.world_size() as f64;
        let flats: Vec<Tensor> = self.buckets.iter().map(|b| b.flat.alias()).collect::<Result<_>>()?;
        foreach::mul_scalar_(&flats, scale)?;
        for bucket in &self.buckets {
            for &(i, offset, n) in &bucket.members {
                grads[i].copy_(&bucket.flat.narrow(0, offset, n)?.reshape(&shapes[i])?)?;
            }
        }
        let mean_loss = self.buckets[0].flat.narrow(0, loss_at, 1)?.reshape(&[])?.deep_clone()?;
        self.time.all_reduce += started.elapsed();
        Ok(mean_loss)
    }

    /// After a step: every rank takes rank 0's BatchNorm statistics.
    pub fn share_statistics(&mut self) -> Result<()> {
        let started = Instant::now();
        for same_kind in &self.statistics {
            broadcast_flat(&self.group, same_kind).map_err(|e| self.group.explain(e, "the statistics broadcast"))?;
        }
        self.time.broadcast += started.elapsed();
        self.time.steps += 1;
        Ok(())
    }

    /// Buckets in reverse order of the gradients, as backward produces them (the output layers
    /// first), each up to `bucket_bytes`; the first also holds the loss.
    fn lay_out(&mut self, grads: &[Tensor], shapes: &[Vec<i64>]) -> Result<()> {
        let first = grads.first().ok_or_else(|| TorchError::new("no gradients to average"))?;
        let (kind, device) = (first.kind()?, first.device()?);
        let mut groups: Vec<Vec<(usize, i64, i64)>> = vec![Vec::new()];
        let mut filled = 1i64; // the first bucket starts with the loss
        for i in (0..grads.len()).rev() {
            if grads[i].kind()? != kind {
                return Err(TorchError::new(format!(
                    "gradients of mixed dtypes: {:?} and {:?}",
                    kind,
                    grads[i].kind()?
                )));
            }
            let n: i64 = shapes[i].iter().product();
            let bytes = (filled + n) as usize * kind.element_size();
            if bytes > self.bucket_bytes && !groups.last().unwrap().is_empty() {
                groups.push(Vec::new());
                filled = 0;
            }
            groups.last_mut().unwrap().push((i, filled, n));
            filled += n;
        }
        self.buckets = groups
            .into_iter()
            .map(|members| {
                let total = members.last().map_or(1, |&(_, offset, n)| offset + n);
                Ok(Bucket { flat: Tensor::zeros(&[total], kind, device)?, members })
            })
            .collect::<Result<_>>()?;
        self.layout = shapes.to_vec();
        Ok(())
    }
}

fn by_kind(tensors: Vec<Tensor>) -> Result<Vec<Vec<Tensor>>> {
    let mut groups: Vec<(Kind, Vec<Tensor>)> = Vec::new();
    for t in tensors {
        let kind = t.kind()?;
        match groups.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, list)) => list.push(t),
            None => groups.push((kind, vec![t])),
        }
    }
    Ok(groups.into_iter().map(|(_, list)| list).collect())
}

/// One broadcast of rank 0's values of same-dtype `tensors`, packed flat and unpacked in place.
fn broadcast_flat(group: &Group, tensors: &[Tensor]) -> Result<()> {
    if tensors.is_empty() {
        return Ok(());
    }
    let flats = tensors.iter().map(|t| t.reshape(&[-1])).collect::<Result<Vec<_>>>()?;
    let flat = Tensor::cat(&flats.iter().collect::<Vec<_>>(), 0)?;
    group.process_group().broadcast(&[&flat], 0)?;
    let mut offset = 0;
    for t in tensors {
        let n = t.numel()? as i64;
        t.copy_(&flat.narrow(0, offset, n)?.reshape(&t.shape()?)?)?;
        offset += n;
    }
    Ok(())
}
