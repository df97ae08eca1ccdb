//! Image datasets held natively (on the CPU or the training GPU) as one uint8 tensor, so that
//! epochs gather batches by index without copying images through JavaScript.
use crate::host::HostTensor;
use crate::js::{Env, Handle, JsError, JsResult, Value};
use crate::options::Options;
use crate::task::{finish, lock, spawn, Finish};
use byol::dataset::ImageDataset;
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};
use torch::{Device, Kind, Tensor};

/// What a JavaScript dataset handle holds. The metadata sits outside the mutex so that reading
/// it never waits for a gather running on the compute thread.
pub(crate) struct DatasetHandle {
    pub(crate) length: i64,
    pub(crate) height: i64,
    pub(crate) width: i64,
    pub(crate) labelled: bool,
    pub(crate) num_classes: i64,
    pub(crate) device: Device,
    pub(crate) dataset: Arc<Mutex<ImageDataset>>,
}

impl Handle for DatasetHandle {
    const KIND: &'static str = "a dataset handle returned by datasetCreate or datasetLoad";
    const TAG: u64 = 0x6279_6f6c_6461_7461; // "byoldata"
}

pub(crate) fn handle<'a>(env: &'a Env, value: Value, name: &str) -> JsResult<&'a DatasetHandle> {
    env.handle(value, name)
}

fn image_shape(env: &Env, value: Value, name: &str) -> JsResult<Vec<i64>> {
    let items = env.array_items(value, name)?;
    let mut shape = Vec::with_capacity(items.len());
    for (i, v) in items.into_iter().enumerate() {
        let x = env.to_number(v, &format!("{name}[{i}]"))?;
        if x < 0.0 || x.fract() != 0.0 || x > 2f64.powi(40) {
            return Err(JsError::range_error(format!("{name}[{i}] must be a non-negative integer, got {x}")));
        }
        shape.push(x as i64);
    }
    check_image_shape(&shape, name)?;
    Ok(shape)
}

fn check_image_shape(shape: &[i64], name: &str) -> JsResult<()> {
    if shape.len() != 4 || shape[3] != 3 || shape[1] < 1 || shape[2] < 1 {
        return Err(JsError::range_error(format!("{name}: expected [N, H, W, 3] (uint8 RGB, NHWC), got {shape:?}")));
    }
    Ok(())
}

fn labels_arg(env: &Env, value: Value, count: i64) -> JsResult<Option<HostTensor>> {
    if env.is_nullish(value)? {
        return Ok(None);
    }
    let labels = HostTensor::from_js_of(env, value, "labels", Kind::Int64)?;
    if labels.shape != [count] {
        return Err(JsError::range_error(format!(
            "labels: {count} images but {} labels (shape {:?})",
            labels.bytes.len() / 8,
            labels.shape
        )));
    }
    Ok(Some(labels))
}

struct Common {
    num_classes: i64,
    device: Device,
}

fn common(env: &Env, value: Value, labelled: bool) -> JsResult<Common> {
    let o = Options::new(env, value, "options")?;
    let device = crate::config::device(&o.string("device", "cpu")?)?;
    let num_classes = o.integer("numClasses", 0, 0, 1 << 31)?;
    if labelled && num_classes < 1 {
        return Err(JsError::range_error("options.numClasses must be given (>= 1) for labelled data"));
    }
    Ok(Common { num_classes, device })
}

fn build(images: Tensor, labels: Option<HostTensor>, c: Common) -> JsResult<Finish> {
    let labels = labels.map(|l| l.to_tensor(Device::Cpu)).transpose()?;
    if let Some(l) = &labels {
        let values = l.to_bytes()?;
        if let Some(bad) = values
            .chunks_exact(8)
            .map(|b| i64::from_ne_bytes(b.try_into().unwrap()))
            .find(|&v| v < 0 || v >= c.num_classes)
        {
            return Err(JsError::range_error(format!("labels must lie in [0, {}), found {bad}", c.num_classes)));
        }
    }
    let dataset = ImageDataset::new(&images, labels.as_ref(), c.num_classes, c.device)?;
    let [height, width] = dataset.image_size();
    let handle = DatasetHandle {
        length: dataset.len(),
        height,
        width,
        labelled: labels.is_some(),
        num_classes: c.num_classes,
        device: c.device,
        dataset: Arc::new(Mutex::new(dataset)),
    };
    finish(move |env| env.external(handle))
}

/// `datasetCreate({ data: Uint8Array, shape: [N, H, W, 3] }, labels | null, { numClasses, device })`
pub fn create(env: &Env, args: &[Value]) -> JsResult<Value> {
    let images = HostTensor::from_js_of(env, args[0], "images", Kind::Uint8)?;
    check_image_shape(&images.shape, "images")?;
    let labels = labels_arg(env, args[1], images.shape[0])?;
    let c = common(env, args[2], labels.is_some())?;
    spawn(env, "byol.datasetCreate", move || build(images.to_tensor(Device::Cpu)?, labels, c))
}

/// `datasetLoad(path, byteOffset, shape, labels | null, { numClasses, device })`: the images are
/// read from a file (a dataset cache) on the compute thread, never entering JavaScript memory.
pub fn load(env: &Env, args: &[Value]) -> JsResult<Value> {
    let path = env.to_string(args[0], "path")?;
    let offset = env.to_number(args[1], "byteOffset")?;
    if offset < 0.0 || offset.fract() != 0.0 {
        return Err(JsError::range_error(format!("byteOffset must be a non-negative integer, got {offset}")));
    }
    let shape = image_shape(env, args[2], "shape")?;
    let labels = labels_arg(env, args[3], shape[0])?;
    let c = common(env, args[4], labels.is_some())?;
    spawn(env, "byol.datasetLoad", move || {
        let nbytes = shape.iter().product::<i64>() as usize;
        let mut file = std::fs::File::open(&path).map_err(|e| JsError::error(format!("{path}: {e}")))?;
        let mut bytes = vec![0u8; nbytes];
        file.seek(SeekFrom::Start(offset as u64))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(|e| JsError::error(format!("{path}: reading {nbytes} image bytes at offset {offset}: {e}")))?;
        let images = Tensor::from_bytes(&bytes, Kind::Uint8, &shape, Device::Cpu)?;
        drop(bytes);
        build(images, labels, c)
    })
}

/// `datasetInfo(dataset) -> { length, height, width, labelled, numClasses, device }`
pub fn info(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = handle(env, args[0], "dataset")?;
    let o = env.object()?;
    env.set(o, "length", env.number(h.length as f64)?)?;
    env.set(o, "height", env.number(h.height as f64)?)?;
    env.set(o, "width", env.number(h.width as f64)?)?;
    env.set(o, "labelled", env.boolean(h.labelled)?)?;
    env.set(o, "numClasses", env.number(h.num_classes as f64)?)?;
    env.set(o, "device", env.string(&h.device.to_string())?)?;
    Ok(o)
}

/// Reads `{ data: BigInt64Array, shape: [B] }` batch indices.
pub(crate) fn indices_arg(env: &Env, value: Value, name: &str) -> JsResult<Vec<i64>> {
    let t = HostTensor::from_js_of(env, value, name, Kind::Int64)?;
    if t.shape.len() != 1 {
        return Err(JsError::range_error(format!("{name} must be one-dimensional, got shape {:?}", t.shape)));
    }
    Ok(t.bytes.chunks_exact(8).map(|b| i64::from_ne_bytes(b.try_into().unwrap())).collect())
}

/// `datasetGather(dataset, indices) -> Promise<{ data: Uint8Array, shape: [B, H, W, 3] }>`
pub fn gather(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h = handle(env, args[0], "dataset")?;
    let indices = indices_arg(env, args[1], "indices")?;
    let dataset = h.dataset.clone();
    spawn(env, "byol.datasetGather", move || {
        let batch = lock(&dataset).gather(&indices)?;
        let host = HostTensor::from_tensor(&batch)?;
        finish(move |env| host.to_js(env))
    })
}
