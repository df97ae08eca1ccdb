use super::conv::centre_tap_of;
use super::{BatchNorm, Conv2d};
use crate::error::Result;
use crate::tensor::Tensor;
use std::cell::{Ref, RefCell};

/// A convolution and the BatchNorm after it, folded for inference on the CPU into one
/// convolution with a bias, whose weight is packed once for oneDNN. Inputs and outputs are in
/// oneDNN's layout. A snapshot: it does not follow later changes to the layers it was built from.
pub struct FoldedConv2d {
    full: PackedWeight,
    /// The centre tap alone as a 1x1 convolution, for 1x1 maps (see Conv2d::centre_tap).
    centre: Option<PackedWeight>,
    bias: Tensor,
}

impl FoldedConv2d {
    /// Call without gradient recording: the folded tensors are plain copies.
    pub fn new(conv: &Conv2d, bn: &BatchNorm) -> Result<FoldedConv2d> {
        let (weight, bias) = bn.fold(conv.weight())?;
        let centre = if conv.is_centred() {
            let tap = centre_tap_of(&weight, conv.padding())?;
            let shape = tap.shape()?;
            Some(PackedWeight::new(tap.reshape(&[shape[0], shape[1], 1, 1])?, 1, 0))
        } else {
            None
        };
        Ok(FoldedConv2d { full: PackedWeight::new(weight, conv.stride(), conv.padding()), centre, bias })
    }

    /// `x` in oneDNN's layout (a strided one is converted).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = if x.is_onednn()? { x.alias()? } else { x.to_onednn()? };
        let shape = x.shape()?;
        let weight = match &self.centre {
            Some(centre) if shape[2] == 1 && shape[3] == 1 => centre,
            _ => &self.full,
        };
        x.onednn_conv2d(&*weight.packed()?, Some(&self.bias), weight.stride, weight.padding)
    }
}

/// A folded weight, packed on first use: packing a 512-channel 3x3 weight takes tens of
/// milliseconds, and layers that only ever see 1x1 maps need only their centre tap.
struct PackedWeight {
    weight: RefCell<Weight>,
    stride: i64,
    padding: i64,
}

enum Weight {
    Folded(Tensor),
    Packed(Tensor),
}

impl PackedWeight {
    fn new(folded: Tensor, stride: i64, padding: i64) -> PackedWeight {
        PackedWeight { weight: RefCell::new(Weight::Folded(folded)), stride, padding }
    }

    fn packed(&self) -> Result<Ref<'_, Tensor>> {
        let packed = match &*self.weight.borrow() {
            Weight::Folded(w) => Some(w.onednn_pack_conv2d_weight(self.stride, self.padding)?),
            Weight::Packed(_) => None,
        };
        if let Some(p) = packed {
            *self.weight.borrow_mut() = Weight::Packed(p);
        }
        Ok(Ref::map(self.weight.borrow(), |w| match w {
            Weight::Packed(p) => p,
            Weight::Folded(_) => unreachable!("packed above"),
        }))
    }
}
