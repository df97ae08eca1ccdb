//! An image dataset held as one uint8 tensor on the training device, so that a batch is a gather
//! by index on that device (no host round trip per step when the data fits in device memory).
use torch::{Device, ImageLayout, Kind, Result, Tensor, TorchError};

/// torchvision's ImageNet normalisation, used by Lightly's transforms.
pub const IMAGENET_MEAN: [f64; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f64; 3] = [0.229, 0.224, 0.225];

/// `[N, H, W, 3]` uint8 images and optional labels in `[0, num_classes)`.
pub struct ImageDataset {
    images: Tensor,
    labels: Option<Tensor>,
    num_classes: i64,
    len: i64,
    height: i64,
    width: i64,
    device: Device,
}

impl ImageDataset {
    /// Moves `images` (uint8 `[N, H, W, 3]`) and `labels` (int64 `[N]`) to `device`.
    pub fn new(images: &Tensor, labels: Option<&Tensor>, num_classes: i64, device: Device) -> Result<ImageDataset> {
        let shape = images.shape()?;
        if images.kind()? != Kind::Uint8 || shape.len() != 4 || shape[3] != 3 {
            return Err(TorchError::new(format!(
                "images must be uint8 of shape [N, H, W, 3], got {} of shape {shape:?}",
                images.kind()?.name()
            )));
        }
        let labels = match labels {
            None => None,
            Some(l) => {
                let ls = l.shape()?;
                if l.kind()? != Kind::Int64 || ls != [shape[0]] {
                    return Err(TorchError::new(format!(
                        "labels must be int64 of shape [{}] (one per image), got {} of shape {ls:?}",
                        shape[0],
                        l.kind()?.name()
                    )));
                }
                Some(l.to_device(device)?)
            }
        };
        if labels.is_some() && num_classes < 1 {
            return Err(TorchError::new("a labelled dataset needs num_classes >= 1"));
        }
        Ok(ImageDataset {
            images: images.to_device(device)?,
            labels,
            num_classes,
            len: shape[0],
            height: shape[1],
            width: shape[2],
            device,
        })
    }

    pub fn len(&self) -> i64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `[height, width]` of every image.
    pub fn image_size(&self) -> [i64; 2] {
        [self.height, self.width]
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn num_classes(&self) -> i64 {
        self.num_classes
    }

    pub fn labels(&self) -> Option<&Tensor> {
        self.labels.as_ref()
    }

    pub fn images(&self) -> &Tensor {
        &self.images
    }

    /// `indices` as an int64 tensor on the dataset's device, after checking that each is a row.
    pub fn index(&self, indices: &[i64]) -> Result<Tensor> {
        if let Some(&bad) = indices.iter().find(|&&i| i < 0 || i >= self.len) {
            return Err(TorchError::new(format!("index {bad} is outside the dataset's {} images", self.len)));
        }
        Tensor::from_i64(indices, &[indices.len() as i64], self.device)
    }

    /// The images at `indices`, uint8 `[B, H, W, 3]`, gathered on the dataset's device.
    pub fn gather(&self, indices: &[i64]) -> Result<Tensor> {
        self.images.index_select(0, &self.index(indices)?)
    }

    /// `count` images from `start`, uint8 `[count, H, W, 3]` (a view, no copy).
    pub fn slice(&self, start: i64, count: i64) -> Result<Tensor> {
        if start < 0 || count < 0 || start + count > self.len {
            return Err(TorchError::new(format!(
                "rows {start}..{} are outside the dataset's {} images",
                start + count,
                self.len
            )));
        }
        self.images.narrow(0, start, count)
    }
}

/// uint8 `[N, H, W, 3]` images as the float input of the network, normalised as Lightly's
/// evaluation transform (`ToTensor` + ImageNet `Normalize`).
pub fn normalize_images(images: &Tensor) -> Result<Tensor> {
    images.images_to_float(ImageLayout::Nhwc, IMAGENET_MEAN, IMAGENET_STD)
}
