//! Tensors crossing the boundary as `{ data: TypedArray, shape: number[] }`.
use crate::js::{Env, JsError, JsResult, Value};
use crate::napi::{NAPI_BIGINT64_ARRAY, NAPI_FLOAT32_ARRAY, NAPI_UINT8_ARRAY};
use torch::{Device, Kind, Tensor};

/// A tensor's bytes in host memory, copied out of (or into) a JavaScript typed array.
pub struct HostTensor {
    pub kind: Kind,
    pub shape: Vec<i64>,
    pub bytes: Vec<u8>,
}

impl HostTensor {
    /// Reads `{ data, shape }`, checking that the shape matches the data's length.
    pub fn from_js(env: &Env, value: Value, name: &str) -> JsResult<HostTensor> {
        let object = env.to_object(value, name).map_err(|_| {
            JsError::type_error(format!("{name} must be a tensor object {{ data: Float32Array, shape: number[] }}"))
        })?;
        let (code, bytes) = env.typed_array_bytes(env.get(object, "data")?, &format!("{name}.data"))?;
        let kind = match code {
            NAPI_UINT8_ARRAY => Kind::Uint8,
            NAPI_FLOAT32_ARRAY => Kind::Float,
            NAPI_BIGINT64_ARRAY => Kind::Int64,
            _ => unreachable!("typed_array_bytes accepts these three only"),
        };
        let mut shape = Vec::new();
        for (i, d) in env.array_items(env.get(object, "shape")?, &format!("{name}.shape"))?.into_iter().enumerate() {
            let x = env.to_number(d, &format!("{name}.shape[{i}]"))?;
            if x < 0.0 || x.fract() != 0.0 || x > 2f64.powi(40) {
                return Err(JsError::range_error(format!("{name}.shape[{i}] must be a non-negative integer, got {x}")));
            }
            shape.push(x as i64);
        }
        let elements: i64 = shape.iter().product();
        let have = bytes.len() / kind.element_size();
        if elements as usize != have {
            return Err(JsError::range_error(format!(
                "{name}: shape {shape:?} needs {elements} elements but data has {have}"
            )));
        }
        Ok(HostTensor { kind, shape, bytes })
    }

    /// Like `from_js`, also requiring an element type.
    pub fn from_js_of(env: &Env, value: Value, name: &str, kind: Kind) -> JsResult<HostTensor> {
        let t = HostTensor::from_js(env, value, name)?;
        if t.kind != kind {
            return Err(JsError::type_error(format!(
                "{name}.data must hold {} values, got {}",
                kind.name(),
                t.kind.name()
            )));
        }
        Ok(t)
    }

    pub fn to_tensor(&self, device: Device) -> torch::Result<Tensor> {
        Tensor::from_bytes(&self.bytes, self.kind, &self.shape, device)
    }

    /// Copies a tensor to the host (float types other than float32 become float32).
    pub fn from_tensor(t: &Tensor) -> torch::Result<HostTensor> {
        let t = match t.kind()? {
            Kind::Uint8 | Kind::Int64 | Kind::Float => t.alias()?,
            _ => t.to_kind(Kind::Float)?,
        };
        Ok(HostTensor { kind: t.kind()?, shape: t.shape()?, bytes: t.to_bytes()? })
    }

    pub fn to_js(&self, env: &Env) -> JsResult<Value> {
        let (code, element) = match self.kind {
            Kind::Uint8 => (NAPI_UINT8_ARRAY, 1),
            Kind::Int64 => (NAPI_BIGINT64_ARRAY, 8),
            _ => (NAPI_FLOAT32_ARRAY, 4),
        };
        let object = env.object()?;
        env.set(object, "data", env.typed_array(code, &self.bytes, element)?)?;
        let dims: Vec<Value> = self.shape.iter().map(|&d| env.number(d as f64)).collect::<JsResult<_>>()?;
        env.set(object, "shape", env.array(&dims)?)?;
        Ok(object)
    }
}
