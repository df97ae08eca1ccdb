//! `decodeJpeg(bytes, height, width)` -> `Promise<Uint8Array | null>`: an uploaded JPEG's RGB
//! pixels `[height, width, 3]`, decoded on libuv's pool with libjpeg-turbo (torch::jpeg); `null`
//! when the image is not a plain JPEG of exactly that size, which the caller then decodes with
//! sharp. Rejects with libjpeg's message when the data is damaged or truncated.
use crate::js::{Env, JsError, JsResult, Value};
use crate::napi::NAPI_UINT8_ARRAY;
use crate::task::{finish, spawn_on_pool};

/// The largest side decoded here: services decode model-sized images, never photos.
const MAX_SIDE: f64 = 4096.0;

pub fn decode(env: &Env, args: &[Value]) -> JsResult<Value> {
    let (kind, bytes) = env.typed_array_bytes(args[0], "bytes")?;
    if kind != NAPI_UINT8_ARRAY {
        return Err(JsError::type_error("bytes must be a Uint8Array (or Buffer)"));
    }
    let side = |v: Value, name: &str| -> JsResult<usize> {
        let x = env.to_number(v, name)?;
        if !((1.0..=MAX_SIDE).contains(&x) && x.fract() == 0.0) {
            return Err(JsError::range_error(format!("{name} must be an integer in [1, {MAX_SIDE}], got {x}")));
        }
        Ok(x as usize)
    };
    let (height, width) = (side(args[1], "height")?, side(args[2], "width")?);
    spawn_on_pool(env, "byol.decodeJpeg", move || {
        let pixels = torch::jpeg::decode_rgb(&bytes, height, width)?;
        finish(move |env| match pixels {
            Some(p) => env.typed_array(NAPI_UINT8_ARRAY, &p, 1),
            None => env.null(),
        })
    })
}

/// `jpegAvailable()`: whether the shim was built with libjpeg.
pub fn available(env: &Env, _args: &[Value]) -> JsResult<Value> {
    env.boolean(torch::jpeg::available())
}
