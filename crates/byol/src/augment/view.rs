//! The view pipeline (Lightly's order) and the `Augmenter` that makes both views of a batch.
//!
//! A call draws every random number of both views up front (one `[N, UNIFORMS]` uniform tensor per
//! view from the augmenter's generator), turns them into per-image parameters with tensor
//! arithmetic on the device, and then runs the transforms. On CUDA the batch goes through at once
//! and every image runs every colour-jitter stage (masked), so nothing is read back to the host.
//! On CPU, where reading a value costs nothing, each view's images are grouped by the jitter
//! stages they need and go through in chunks that stay in cache, shared by single-threaded
//! workers (`workers`). The parameters never depend on the grouping or the chunking.
use crate::augment::color_jitter::{self, JitterParams, JitterPlan, Stages};
use crate::augment::config::{AugmentConfig, ConfigError, OutputType, ViewConfig};
use crate::augment::flip;
use crate::augment::gaussian_blur;
use crate::augment::grayscale;
use crate::augment::normalize::Normalization;
use crate::augment::random_resized_crop::{self as rrc, CropBoxes};
use crate::augment::rotation;
use crate::augment::solarize;
use crate::augment::{column, columns, workers};
use torch::{Device, Generator, ImageLayout, Kind, Result, Tensor, TorchError};

// Where each transform's uniform numbers sit in a view's draw.
const CROP: i64 = 0;
const ROTATE: i64 = CROP + rrc::DRAWS;
const ANGLE: i64 = ROTATE + 1;
const HFLIP: i64 = ANGLE + 1;
const VFLIP: i64 = HFLIP + 1;
const JITTER: i64 = VFLIP + 1;
const GRAY: i64 = JITTER + color_jitter::DRAWS;
const BLUR: i64 = GRAY + 1;
const SIGMA: i64 = BLUR + 1;
const SOLARIZE: i64 = SIGMA + 1;
/// Uniform numbers one image consumes per view.
pub const UNIFORMS: i64 = SOLARIZE + 1;

/// One view's random parameters for a batch (float64 `[N]` tensors unless noted).
pub struct ViewParams {
    /// RandomResizedCrop's boxes, in input pixels.
    pub boxes: CropBoxes,
    /// 1 where the image rotates.
    pub rotate: Tensor,
    /// The rotation in degrees, counter-clockwise (90 for Lightly's quarter turns), 0 where none.
    pub angle: Tensor,
    pub hflip: Tensor,
    pub vflip: Tensor,
    pub jitter: JitterParams,
    pub grayscale: Tensor,
    /// The blur's sigma, 0 where the image is not blurred.
    pub blur_sigma: Tensor,
    pub solarize: Tensor,
}

impl ViewParams {
    /// Draws the parameters of `n` images of `height x width` pixels.
    pub fn draw(
        config: &ViewConfig,
        n: i64,
        height: i64,
        width: i64,
        generator: &Generator,
        device: Device,
    ) -> Result<ViewParams> {
        ViewParams::from_uniforms(
            config,
            &Tensor::rand(&[n, UNIFORMS], Kind::Double, device, generator)?,
            height,
            width,
        )
    }

    /// The parameters made from `u`, float64 `[n, UNIFORMS]` uniforms in [0, 1): every random
    /// choice of a view, so that a captured step can draw them before it and stay replayable.
    pub fn from_uniforms(config: &ViewConfig, u: &Tensor, height: i64, width: i64) -> Result<ViewParams> {
        let flag = |i: i64, p: f64| column(u, i)?.lt_scalar(p)?.to_kind(Kind::Double);
        let boxes = rrc::sample(&columns(u, CROP, rrc::DRAWS)?, height, width, (config.min_scale, 1.0), rrc::RATIO)?;
        let rotate = flag(ROTATE, config.rr_prob)?;
        let angle = match config.rr_degrees {
            None => rotate.mul_scalar(90.0)?,
            Some((lo, hi)) => {
                let a = column(u, ANGLE)?.mul_scalar(hi - lo)?;
                a.add_scalar_(lo)?;
                a.mul(&rotate)?
            }
        };
        let jitter =
            color_jitter::sample(&columns(u, JITTER, color_jitter::DRAWS)?, config.cj_prob, config.jitter_ranges())?;
        let (lo, hi) = config.sigmas;
        let sigma = column(u, SIGMA)?.mul_scalar(hi - lo)?;
        sigma.add_scalar_(lo)?;
        Ok(ViewParams {
            boxes,
            rotate,
            angle,
            hflip: flag(HFLIP, config.hf_prob)?,
            vflip: flag(VFLIP, config.vf_prob)?,
            jitter,
            grayscale: flag(GRAY, config.random_gray_scale)?,
            blur_sigma: sigma.mul(&flag(BLUR, config.gaussian_blur)?)?,
            solarize: flag(SOLARIZE, config.solarization_prob)?,
        })
    }
}

impl ViewParams {
    /// The parameters of the images at `index` (int64 `[M]`), in that order.
    pub fn select(&self, index: &Tensor) -> Result<ViewParams> {
        let pick = |t: &Tensor| t.index_select(0, index);
        let b = &self.boxes;
        Ok(ViewParams {
            boxes: CropBoxes {
                top: pick(&b.top)?,
                left: pick(&b.left)?,
                height: pick(&b.height)?,
                width: pick(&b.width)?,
            },
            rotate: pick(&self.rotate)?,
            angle: pick(&self.angle)?,
            hflip: pick(&self.hflip)?,
            vflip: pick(&self.vflip)?,
            jitter: JitterParams {
                apply: pick(&self.jitter.apply)?,
                factors: pick(&self.jitter.factors)?,
                order: pick(&self.jitter.order)?,
            },
            grayscale: pick(&self.grayscale)?,
            blur_sigma: pick(&self.blur_sigma)?,
            solarize: pick(&self.solarize)?,
        })
    }
}

/// Which per-image steps a run of images needs: the colour-jitter stages, and the blur (false:
/// none of these images is blurred).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Step {
    stages: Stages,
    blur: bool,
}

/// A view's transforms for one batch, made from its parameters; steps whose probability is 0 are
/// left out (known from the configuration, without looking at the draws).
struct Pipeline<'a> {
    config: &'a ViewConfig,
    rows: rrc::Taps,
    cols: rrc::Taps,
    transpose: Option<Tensor>,
    /// degrees, hflip, vflip (float32 `[N]`) when rotations take any angle
    rotate: Option<(Tensor, Tensor, Tensor)>,
    jitter: Option<JitterPlan>,
    grayscale: Option<Tensor>,
    blur: Option<Tensor>,
    solarize: Option<Tensor>,
    normalization: &'a Normalization,
}

fn float(t: &Tensor) -> Result<Tensor> {
    t.to_kind(Kind::Float)
}

impl<'a> Pipeline<'a> {
    /// `gain` scales the input values (1 / 255 for uint8 images).
    fn new(
        config: &'a ViewConfig,
        params: &ViewParams,
        height: i64,
        width: i64,
        gain: f64,
        normalization: &'a Normalization,
    ) -> Result<Pipeline<'a>> {
        let size = config.input_size;
        let b = &params.boxes;
        let any_angle = config.rr_degrees.is_some() && config.rr_prob > 0.0;
        // Quarter turns and flips fold into the matrices; with any-angle rotations the flips
        // come after the rotation, in its sampling grid.
        let (rows, cols, transpose, rotate) = if any_angle {
            let rows = rrc::taps(&b.top, &b.height, height, size, None, gain)?;
            let cols = rrc::taps(&b.left, &b.width, width, size, None, 1.0)?;
            let rotate = (float(&params.angle)?, float(&params.hflip)?, float(&params.vflip)?);
            (rows, cols, None, Some(rotate))
        } else {
            let quarter = (config.rr_prob > 0.0).then_some(&params.rotate);
            let d = flip::compose(quarter, &params.hflip, &params.vflip)?;
            let rows = rrc::taps(&b.top, &b.height, height, size, Some(&d.reverse_rows), gain)?;
            let cols = rrc::taps(&b.left, &b.width, width, size, Some(&d.reverse_cols), 1.0)?;
            (rows, cols, d.transpose.as_ref().map(float).transpose()?, None)
        };
        let jitter_on = config.cj_prob > 0.0 && config.cj_strength > 0.0;
        Ok(Pipeline {
            config,
            rows,
            cols,
            transpose,
            rotate,
            jitter: if jitter_on { Some(JitterPlan::new(&params.jitter)?) } else { None },
            grayscale: (config.random_gray_scale > 0.0).then(|| float(&params.grayscale)).transpose()?,
            blur: (config.gaussian_blur > 0.0 && config.sigmas.1 > 0.0)
                .then(|| params.blur_sigma.alias())
                .transpose()?,
            solarize: (config.solarization_prob > 0.0).then(|| float(&params.solarize)).transpose()?,
            normalization,
        })
    }

    /// Transforms images `start .. start + n` of the pipeline's order (before normalisation);
    /// `xt` holds them transposed (float `[n, 3, W, H]` contiguous). `step` says which of the
    /// per-image steps these images need.
    fn transform(&self, xt: &Tensor, start: i64, n: i64, step: Step) -> Result<Tensor> {
        let rows_of = |t: &Tensor| t.narrow(0, start, n);
        let mut y = rrc::resample_transposed(xt, &self.rows.slice(start, n)?, &self.cols.slice(start, n)?)?;
        if let Some(t) = &self.transpose {
            y = flip::transpose_where(&y, &rows_of(t)?)?;
        }
        if let Some((degrees, h, v)) = &self.rotate {
            y = rotation::rotate(&y, &rows_of(degrees)?, Some(&rows_of(h)?), Some(&rows_of(v)?))?;
        }
        if let Some(plan) = &self.jitter {
            let with_hue = self.config.cj_strength * self.config.cj_hue > 0.0;
            y = plan.slice(start, n)?.apply_stages(&y, with_hue, step.stages)?;
        }
        if let Some(g) = &self.grayscale {
            grayscale::random_grayscale_(&y, &rows_of(g)?)?;
        }
        if let Some(sigma) = self.blur.as_ref().filter(|_| step.blur) {
            y = gaussian_blur::gaussian_blur(&y, &rows_of(sigma)?, self.config.sigmas.1)?;
        }
        if let Some(s) = &self.solarize {
            y = solarize::solarize(&y, &rows_of(s)?, solarize::THRESHOLD)?;
        }
        Ok(y)
    }
}

/// Float elements (of the input or of one view, whichever is larger) that one CPU chunk holds:
/// small enough for the intermediate images to stay in the CPU's caches.
pub const CPU_CHUNK_ELEMENTS: i64 = 96 * 1024;

/// Makes BYOL's two views of uint8 image batches, on one device, from its own seeded generator.
pub struct Augmenter {
    config: AugmentConfig,
    device: Device,
    generator: Generator,
    normalization: [Normalization; 2],
    /// Float elements per pass through the pipeline on CPU (None: the whole batch at once).
    pub chunk_elements: Option<i64>,
    /// Threads that share a batch's chunks on CPU (None: libtorch's intra-op thread count).
    pub cpu_workers: Option<usize>,
    /// CPU only: group each view's images by the colour-jitter stages they need and by whether
    /// they are blurred (default true; false runs every step on every image, as on CUDA).
    pub cpu_grouping: bool,
    /// CUDA only, a diagnostic for tests: `views` runs with libtorch's synchronisation check set
    /// to fail (process-wide while it runs), proving that it never waits for the device.
    pub cuda_sync_check: bool,
}

/// Sets the calling thread to one intra-op thread (on CPU) until dropped; `threads` is the count
/// it had (the first guard on a thread sees the caller's setting).
struct SingleThreaded {
    threads: usize,
    restore: bool,
}

impl SingleThreaded {
    fn new(device: Device) -> Result<SingleThreaded> {
        let threads = torch::num_threads()?;
        let restore = !device.is_cuda() && threads > 1;
        if restore {
            torch::set_thread_local_threads(1)?;
        }
        Ok(SingleThreaded { threads, restore })
    }
}

impl Drop for SingleThreaded {
    fn drop(&mut self) {
        if self.restore {
            let _ = torch::set_thread_local_threads(self.threads);
        }
    }
}

/// Turns libtorch's CUDA synchronisation check to "error" until dropped.
struct SyncCheck(Option<torch::cuda::SyncDebug>);

impl SyncCheck {
    fn new(on: bool) -> Result<SyncCheck> {
        Ok(SyncCheck(if on { Some(torch::cuda::cuda_sync_debug_mode(torch::cuda::SyncDebug::Error)?) } else { None }))
    }
}

impl Drop for SyncCheck {
    fn drop(&mut self) {
        if let Some(previous) = self.0 {
            let _ = torch::cuda::cuda_sync_debug_mode(previous);
        }
    }
}

/// Lets the CPU worker threads share the chunk closure. Sound because the closure only reads
/// tensors (libtorch tensors may be read from several threads) and each chunk writes its own
/// disjoint rows of the outputs.
struct SharedForChunks<'a, F>(&'a F);
unsafe impl<F> Sync for SharedForChunks<'_, F> {}

impl<F: Fn(usize)> SharedForChunks<'_, F> {
    fn call(&self, worker: usize) {
        (self.0)(worker)
    }
}

impl Augmenter {
    /// Validates the configuration (the error names the field) and seeds the generator.
    pub fn new(config: AugmentConfig, seed: u64, device: Device) -> std::result::Result<Augmenter, AugmentError> {
        config.validate().map_err(AugmentError::Config)?;
        let generator = Generator::new(seed, device)?;
        let normalization = [
            Normalization::new(config.view0.normalize.as_ref(), device)?,
            Normalization::new(config.view1.normalize.as_ref(), device)?,
        ];
        let chunk_elements = (!device.is_cuda()).then_some(CPU_CHUNK_ELEMENTS);
        Ok(Augmenter {
            config,
            device,
            generator,
            normalization,
            chunk_elements,
            cpu_workers: None,
            cpu_grouping: true,
            cuda_sync_check: false,
        })
    }

    pub fn config(&self) -> &AugmentConfig {
        &self.config
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// The generator's state, to save with a checkpoint.
    pub fn state(&self) -> Result<Tensor> {
        self.generator.state()
    }

    /// Restores a state from [`Augmenter::state`]: the following calls repeat the saved stream.
    pub fn set_state(&self, state: &Tensor) -> Result<()> {
        self.generator.set_state(state)
    }

    /// Both views' parameters for `n` images of `height x width`, drawn as [`Augmenter::views`]
    /// draws them (so it advances the generator the same way).
    pub fn draw(&self, n: i64, height: i64, width: i64) -> Result<(ViewParams, ViewParams)> {
        let view0 = ViewParams::draw(&self.config.view0, n, height, width, &self.generator, self.device)?;
        let view1 = ViewParams::draw(&self.config.view1, n, height, width, &self.generator, self.device)?;
        Ok((view0, view1))
    }

    /// Fills `uniforms` (float64 `[N, UNIFORMS]` each, on this device) with the next draws of
    /// both views, in place: the random part of [`Augmenter::views`], kept out of a captured step
    /// so that replays follow this generator's stream (and its saved state) exactly.
    pub fn draw_uniforms_into(&self, uniforms: &(Tensor, Tensor)) -> Result<()> {
        uniforms.0.uniform_(0.0, 1.0, &self.generator)?;
        uniforms.1.uniform_(0.0, 1.0, &self.generator)
    }

    /// The two views of a uint8 batch made from `uniforms` (see [`Augmenter::draw_uniforms_into`]):
    /// the same views as [`Augmenter::views`] makes after the same draws.
    pub fn views_from_uniforms(
        &self,
        images: &Tensor,
        layout: ImageLayout,
        uniforms: &(Tensor, Tensor),
    ) -> Result<(Tensor, Tensor)> {
        let (_, h, w) = check_images(images, layout)?;
        // The parameters too are made single-threaded, as in `views`.
        let single = SingleThreaded::new(self.device)?;
        let params = (
            ViewParams::from_uniforms(&self.config.view0, &uniforms.0, h, w)?,
            ViewParams::from_uniforms(&self.config.view1, &uniforms.1, h, w)?,
        );
        self.run(images, layout, &params, single.threads)
    }

    /// The two normalised views (`[N, 3, S, S]`, float32 or bfloat16) of a uint8 batch on this
    /// augmenter's device.
    pub fn views(&self, images: &Tensor, layout: ImageLayout) -> Result<(Tensor, Tensor)> {
        let (n, h, w) = check_images(images, layout)?;
        // On CPU the calling thread runs its (small) operations single-threaded too: an OpenMP
        // region here would leave its team spinning next to the chunk workers.
        let single = SingleThreaded::new(self.device)?;
        let _check = SyncCheck::new(self.device.is_cuda() && self.cuda_sync_check)?;
        let params = self.draw(n, h, w)?;
        self.run(images, layout, &params, single.threads)
    }

    /// The two views of a uint8 batch on given parameters (from [`Augmenter::draw`]).
    pub fn apply(
        &self,
        images: &Tensor,
        layout: ImageLayout,
        params: &(ViewParams, ViewParams),
    ) -> Result<(Tensor, Tensor)> {
        let single = SingleThreaded::new(self.device)?;
        self.run(images, layout, params, single.threads)
    }

    /// `apply` with the caller's intra-op thread count (the CPU workers to use).
    fn run(
        &self,
        images: &Tensor,
        layout: ImageLayout,
        params: &(ViewParams, ViewParams),
        threads: usize,
    ) -> Result<(Tensor, Tensor)> {
        let (n, h, w) = check_images(images, layout)?;
        let plan = self.plan(params, n, h, w)?;
        self.execute(&plan, &images.to_device(self.device)?, layout, threads)
    }

    /// How both views of `n` images of `h x w` go through their pipelines, given their random
    /// parameters: each view's pipeline, the order of its images and the chunks of that order.
    fn plan(&self, params: &(ViewParams, ViewParams), n: i64, h: i64, w: i64) -> Result<Plan<'_>> {
        let views = [&self.config.view0, &self.config.view1];
        let largest = views.iter().map(|v| v.input_size * v.input_size).max().unwrap_or(1).max(h * w) * 3;
        let chunk = self.chunk_elements.map_or(n, |e| (e / largest).clamp(1, n.max(1)));
        // Each view's images, in an order of its own: on CPU, grouped by the colour-jitter
        // stages they need (an image needs 3 of the 6 blend stages, or none without jitter) and
        // by whether they are blurred, so that every chunk runs only its group's steps. On CUDA
        // every image runs every step (masked), which needs no host-side look at the parameters.
        let grouped = !self.device.is_cuda() && self.cpu_grouping;
        let plan_view = |v: usize, view_params: &ViewParams| -> Result<ViewPlan<'_>> {
            let config = views[v];
            let jitter = config.cj_prob > 0.0 && config.cj_strength > 0.0;
            let blur = config.gaussian_blur > 0.0 && config.sigmas.1 > 0.0;
            let (order, chunks) = if grouped && (jitter || blur) {
                let (order, chunks) = group_by_steps(view_params, n, jitter, blur, chunk)?;
                let index: Vec<i64> = order.iter().map(|&i| i as i64).collect();
                (Some(Tensor::from_i64(&index, &[n], self.device)?), chunks)
            } else {
                let step = Step { stages: Stages::All, blur: true };
                (
                    None,
                    (0..n).step_by(chunk as usize).map(|s| Chunk { start: s, len: chunk.min(n - s), step }).collect(),
                )
            };
            let selected = order.as_ref().map(|o| view_params.select(o)).transpose()?;
            let pipeline = Pipeline::new(
                config,
                selected.as_ref().unwrap_or(view_params),
                h,
                w,
                1.0 / 255.0,
                &self.normalization[v],
            )?;
            Ok(ViewPlan { pipeline, order, chunks })
        };
        Ok(Plan { views: [plan_view(0, &params.0)?, plan_view(1, &params.1)?], n, height: h, width: w })
    }

    /// Runs a plan on the images (on this device): every chunk of both views, on CPU shared by
    /// `threads` workers; each chunk writes its own rows of the outputs.
    fn execute(
        &self,
        plan: &Plan<'_>,
        images: &Tensor,
        layout: ImageLayout,
        threads: usize,
    ) -> Result<(Tensor, Tensor)> {
        let (n, h, w) = (plan.n, plan.height, plan.width);
        let kind = match self.config.output {
            OutputType::Float32 => Kind::Float,
            OutputType::BFloat16 => Kind::BFloat16,
        };
        let outputs = plan
            .views
            .iter()
            .map(|v| {
                let size = v.pipeline.config.input_size;
                Tensor::empty(&[n, 3, size, size], kind, self.device)
            })
            .collect::<Result<Vec<_>>>()?;
        let work: Vec<(usize, Chunk)> =
            plan.views.iter().enumerate().flat_map(|(v, view)| view.chunks.iter().map(move |&c| (v, c))).collect();
        let run_chunk = |(v, Chunk { start, len, step }): (usize, Chunk)| -> Result<()> {
            let ViewPlan { pipeline, order, .. } = &plan.views[v];
            let rows = order.as_ref().map(|o| o.narrow(0, start, len)).transpose()?;
            let source = match &rows {
                Some(r) => images.index_select(0, r)?,
                None => images.narrow(0, start, len)?,
            };
            let planar = match layout {
                ImageLayout::Nhwc => source.permute(&[0, 3, 1, 2])?,
                ImageLayout::Nchw => source,
            };
            // uint8 to float32 [len, 3, W, H] (transposed: the resampling's first pass gathers
            // columns as rows) in one copy
            let xt = Tensor::empty(&[len, 3, w, h], Kind::Float, self.device)?;
            xt.copy_(&planar.transpose(2, 3)?)?;
            let y = pipeline.transform(&xt, start, len, step)?;
            match &rows {
                None => pipeline.normalization.write(&y, &outputs[v].narrow(0, start, len)?),
                Some(r) => {
                    let size = pipeline.config.input_size;
                    let normalised = Tensor::empty(&[len, 3, size, size], kind, self.device)?;
                    pipeline.normalization.write(&y, &normalised)?;
                    outputs[v].index_copy_(0, r, &normalised)
                }
            }
        };
        let workers = match self.device {
            Device::Cpu => self.cpu_workers.unwrap_or(threads).min(work.len()),
            _ => 1,
        };
        on_workers(workers, &work, run_chunk)?;
        let mut outputs = outputs.into_iter();
        Ok((outputs.next().unwrap(), outputs.next().unwrap()))
    }
}

/// Both views of a batch of `n` images of `height x width`, planned.
struct Plan<'a> {
    views: [ViewPlan<'a>; 2],
    n: i64,
    height: i64,
    width: i64,
}

/// One view's part of a plan: its pipeline, the order its images go through in (None: as they
/// are), and the chunks of that order.
struct ViewPlan<'a> {
    pipeline: Pipeline<'a>,
    order: Option<Tensor>,
    chunks: Vec<Chunk>,
}

/// Images `start .. start + len` of a view's order, and the per-image steps they need.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    start: i64,
    len: i64,
    step: Step,
}

/// The images of a view grouped by the jitter stages they need and by whether they are blurred
/// (read from the parameters on the host, which costs nothing on CPU): the order, and chunks of
/// at most `chunk` images that each stay within one group.
fn group_by_steps(
    params: &ViewParams,
    n: i64,
    jitter: bool,
    blur: bool,
    chunk: i64,
) -> Result<(Vec<usize>, Vec<Chunk>)> {
    let stages = if jitter { params.jitter.stages()? } else { vec![Stages::None; n as usize] };
    let blurred: Vec<bool> =
        if blur { params.blur_sigma.to_f32_vec()?.iter().map(|&s| s > 0.0).collect() } else { vec![false; n as usize] };
    let key = |i: usize| {
        let s = match stages[i] {
            Stages::HueAt(p) => p,
            _ => 4,
        };
        2 * s + blurred[i] as i64
    };
    let mut order: Vec<usize> = (0..n as usize).collect();
    order.sort_by_key(|&i| key(i));
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let group = key(order[start]);
        let end = (start..order.len()).find(|&i| key(order[i]) != group).unwrap_or(order.len());
        let step = Step { stages: stages[order[start]], blur: blurred[order[start]] };
        for s in (start..end).step_by(chunk as usize) {
            chunks.push(Chunk { start: s as i64, len: chunk.min((end - s) as i64), step });
        }
        start = end;
    }
    Ok((order, chunks))
}

/// `f` of every item, on `workers` threads when more than one (CPU: each runs its operations
/// single-threaded, see `workers`), else on this thread. The first error wins.
fn on_workers<T: Copy + Sync>(workers: usize, items: &[T], f: impl Fn(T) -> Result<()>) -> Result<()> {
    if workers <= 1 {
        return items.iter().try_for_each(|&item| f(item));
    }
    let failure: std::sync::Mutex<Option<TorchError>> = std::sync::Mutex::new(None);
    let job = |worker: usize| {
        for &item in items.iter().skip(worker).step_by(workers) {
            if let Err(e) = f(item) {
                failure.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                return;
            }
        }
    };
    let shared = SharedForChunks(&job);
    workers::run(workers, &|worker| shared.call(worker));
    match failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `[N, H, W, 3]` or `[N, 3, H, W]` uint8 images: `(N, H, W)`.
pub fn check_images(images: &Tensor, layout: ImageLayout) -> Result<(i64, i64, i64)> {
    if images.kind()? != Kind::Uint8 {
        return Err(TorchError::new(format!("images must be uint8, got {}", images.kind()?.name())));
    }
    let s = images.shape()?;
    let ok = s.len() == 4 && s[if layout == ImageLayout::Nhwc { 3 } else { 1 }] == 3;
    if !ok {
        let expected = if layout == ImageLayout::Nhwc { "[N, H, W, 3]" } else { "[N, 3, H, W]" };
        return Err(TorchError::new(format!("images must have shape {expected}, got {s:?}")));
    }
    let (h, w) = if layout == ImageLayout::Nhwc { (s[1], s[2]) } else { (s[2], s[3]) };
    if h < 1 || w < 1 {
        return Err(TorchError::new(format!("images must have at least one pixel, got {s:?}")));
    }
    Ok((s[0], h, w))
}

/// Why an augmenter could not be made.
#[derive(Debug, Clone)]
pub enum AugmentError {
    Config(ConfigError),
    Torch(TorchError),
}

impl From<TorchError> for AugmentError {
    fn from(e: TorchError) -> Self {
        AugmentError::Torch(e)
    }
}

impl std::fmt::Display for AugmentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AugmentError::Config(e) => e.fmt(f),
            AugmentError::Torch(e) => e.fmt(f),
        }
    }
}
