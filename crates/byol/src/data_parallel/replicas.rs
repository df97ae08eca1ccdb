//! Keeps the model's replicas on every rank identical, as PyTorch's DistributedDataParallel does:
//! rank 0's weights, BatchNorm statistics and optimizer state at the start; gradients averaged
//! over the ranks by bucketed all-reduce before every optimizer step; rank 0's BatchNorm
//! statistics after every step (each rank's batches move its own, as with DDP's
//! `broadcast_buffers`). The target network needs nothing more: its momentum update only reads
//! weights that are already identical.
use super::Group;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use torch::distributed::Work;
use torch::{GradHook, Kind, Result, Tensor, TorchError};

/// PyTorch DDP's default bucket size: large enough to amortise a collective's latency, small
/// enough that the first buckets go out while backward still computes the rest.
pub const DEFAULT_BUCKET_BYTES: usize = 25 << 20;

/// Time spent in collectives, for the benchmark's share of a step.
#[derive(Debug, Clone, Copy, Default)]
pub struct CommTime {
    pub steps: u64,
    /// From the first bucket sent to the last one back (with overlap, part of it is backward).
    pub all_reduce: Duration,
    /// Waiting for the all-reduce after backward: what overlap leaves of it.
    pub wait: Duration,
    pub broadcast: Duration,
}

/// Where a parameter's gradient sits: bucket, offset in it, element count.
type Slot = (usize, i64, i64);

/// Flat buffers holding the gradients of groups of parameters, each all-reduced as one.
struct Bucket {
    flat: Tensor,
    /// Parameter indices.
    members: Vec<usize>,
}

/// One step's all-reduce: buckets are packed as their gradients arrive (from backward's hooks
/// with overlap, all at once after backward without) and each is sent once full.
struct Reduction {
    group: Arc<Group>,
    buckets: Vec<Bucket>,
    slots: Vec<Slot>,
    packed: Vec<bool>,
    ready: Vec<usize>,
    works: Vec<Option<Work>>,
    /// Hooks pack only between `begin` and `finish` (not in evaluations, not in earlier micro-batches).
    armed: bool,
    started: Option<Instant>,
    error: Option<TorchError>,
}

impl Reduction {
    fn begin(&mut self, loss: &Tensor) -> Result<()> {
        self.packed.iter_mut().for_each(|p| *p = false);
        self.ready.iter_mut().for_each(|r| *r = 0);
        self.works.iter_mut().for_each(|w| *w = None);
        self.error = None;
        self.started = None;
        // The loss rides in the first bucket's first element.
        self.buckets[0].flat.narrow(0, 0, 1)?.copy_(&loss.reshape(&[1])?)?;
        self.armed = true;
        Ok(())
    }

    /// Copies parameter `i`'s gradient into its bucket, and sends the bucket once it is full.
    fn pack(&mut self, i: usize, grad: Option<&Tensor>) -> Result<()> {
        if self.packed[i] {
            return Ok(());
        }
        let (b, offset, n) = self.slots[i];
        let slot = self.buckets[b].flat.narrow(0, offset, n)?;
        match grad {
            Some(g) => slot.copy_(&g.reshape(&[n])?)?,
            None => slot.fill_(0.0)?,
        }
        self.packed[i] = true;
        self.ready[b] += 1;
        if self.ready[b] == self.buckets[b].members.len() {
            self.started.get_or_insert_with(Instant::now);
            // Gloo and NCCL run it on their own threads and streams while packing goes on.
            self.works[b] = Some(self.group.process_group().all_reduce_sum(&self.buckets[b].flat)?);
        }
        Ok(())
    }

    /// What a hook does with a gradient: pack it, keeping the first error for `finish`.
    fn on_gradient(&mut self, i: usize, grad: &Tensor) {
        if self.armed && self.error.is_none() {
            if let Err(e) = self.pack(i, Some(grad)) {
                self.error = Some(e);
            }
        }
    }
}

pub struct Replicas {
    group: Arc<Group>,
    params: Vec<Tensor>,
    reduction: Arc<Mutex<Reduction>>,
    /// With overlap: one per parameter, feeding the reduction during backward.
    hooks: Vec<GradHook>,
    /// Both networks' BatchNorm statistics, grouped by dtype as one flat broadcast each.
    statistics: Vec<Vec<Tensor>>,
    time: CommTime,
}

impl Replicas {
    /// Replicas of a model whose trained parameters are `params` (in the optimizer's order) and
    /// whose BatchNorm statistics are `statistics`. With `overlap`, each bucket is sent as soon
    /// as backward has produced its gradients, while backward goes on with the rest.
    pub fn new(
        group: Arc<Group>,
        params: Vec<Tensor>,
        statistics: Vec<Tensor>,
        bucket_bytes: usize,
        overlap: bool,
    ) -> Result<Replicas> {
        let (buckets, slots) = lay_out(&params, bucket_bytes.max(1))?;
        let n = params.len();
        let reduction = Arc::new(Mutex::new(Reduction {
            group: group.clone(),
            ready: vec![0; buckets.len()],
            works: buckets.iter().map(|_| None).collect(),
            buckets,
            slots,
            packed: vec![false; n],
            armed: false,
            started: None,
            error: None,
        }));
        let mut hooks = Vec::new();
        if overlap {
            for (i, p) in params.iter().enumerate() {
                let shared = reduction.clone();
                hooks.push(p.register_grad_hook(move |grad| lock(&shared).on_gradient(i, grad))?);
            }
        }
        Ok(Replicas { group, params, reduction, hooks, statistics: by_kind(statistics)?, time: CommTime::default() })
    }

    pub fn group(&self) -> &Arc<Group> {
        &self.group
    }

    pub fn overlaps(&self) -> bool {
        !self.hooks.is_empty()
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

    /// Before the backward pass whose gradients `overlap` sends as they come; `loss` rides along.
    pub fn before_backward(&mut self, loss: &Tensor) -> Result<()> {
        if self.overlaps() {
            lock(&self.reduction).begin(loss)?;
        }
        Ok(())
    }

    /// Averages the parameters' gradients over the ranks in place and returns the ranks' mean
    /// `loss`: the rest of what `before_backward` started, or the whole all-reduce.
    pub fn average_gradients(&mut self, loss: &Tensor) -> Result<Tensor> {
        let waited = Instant::now();
        let mut r = lock(&self.reduction);
        if !r.armed {
            r.begin(loss)?;
        }
        let result = self.finish(&mut r);
        r.armed = false;
        let (started, mean_loss) = (r.started.unwrap_or(waited), result?);
        self.time.all_reduce += started.elapsed();
        self.time.wait += waited.elapsed();
        Ok(mean_loss)
    }

    fn finish(&self, r: &mut Reduction) -> Result<Tensor> {
        if let Some(e) = r.error.take() {
            return Err(self.group.explain(e, "the gradient all-reduce"));
        }
        // Backward's order first (the output layers), as the hooks would have.
        for i in (0..self.params.len()).rev() {
            let grad = self.params[i].grad()?;
            r.pack(i, grad.as_ref())?;
        }
        for w in r.works.iter_mut().filter_map(Option::take) {
            w.wait().map_err(|e| self.group.explain(e, "the gradient all-reduce"))?;
        }
        let scale = 1.0 / self.group.world_size() as f64;
        for bucket in &r.buckets {
            bucket.flat.mul_scalar_(scale)?;
        }
        for (p, &(b, offset, n)) in self.params.iter().zip(&r.slots) {
            if let Some(g) = p.grad()? {
                g.copy_(&r.buckets[b].flat.narrow(0, offset, n)?.reshape(&g.shape()?)?)?;
            }
        }
        r.buckets[0].flat.narrow(0, 0, 1)?.reshape(&[])?.deep_clone()
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
}

fn lock(m: &Mutex<Reduction>) -> MutexGuard<'_, Reduction> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Buckets in reverse order of the parameters, as backward produces their gradients (the output
/// layers first), each up to `bucket_bytes`; the first starts with one element for the loss.
fn lay_out(params: &[Tensor], bucket_bytes: usize) -> Result<(Vec<Bucket>, Vec<Slot>)> {
    let first = params.first().ok_or_else(|| TorchError::new("no parameters to keep in step"))?;
    let (kind, device) = (first.kind()?, first.device()?);
    let mut groups: Vec<Vec<usize>> = vec![Vec::new()];
    let mut slots = vec![(0, 0, 0); params.len()];
    let mut filled = 1i64;
    for i in (0..params.len()).rev() {
        if params[i].kind()? != kind {
            return Err(TorchError::new(format!("parameters of mixed dtypes: {:?} and {:?}", kind, params[i].kind()?)));
        }
        let n = params[i].numel()? as i64;
        if (filled + n) as usize * kind.element_size() > bucket_bytes && !groups.last().unwrap().is_empty() {
            groups.push(Vec::new());
            filled = 0;
        }
        slots[i] = (groups.len() - 1, filled, n);
        groups.last_mut().unwrap().push(i);
        filled += n;
    }
    let buckets = groups
        .into_iter()
        .map(|members| {
            let total = members.last().map_or(1, |&i| slots[i].1 + slots[i].2);
            Ok(Bucket { flat: Tensor::zeros(&[total], kind, device)?, members })
        })
        .collect::<Result<_>>()?;
    Ok((buckets, slots))
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
