//! `decodeJpeg(bytes, height, width)` and `decodeJpegFile(path, height, width)` ->
//! `Promise<Uint8Array | null>`: a JPEG's RGB pixels `[height, width, 3]`, decoded on libuv's pool
//! with libjpeg-turbo (torch::jpeg); `null` when the image is not a plain JPEG of exactly that size
//! (or the file cannot be read), which the caller then decodes with sharp. Rejects with libjpeg's
//! message when the data is damaged or truncated.
use crate::js::{Env, JsError, JsResult, Value};
use crate::napi::NAPI_UINT8_ARRAY;
use crate::task::{finish, spawn_on_pool, Finish};

/// The largest side decoded here: images at a model's input size, never photos (those need
/// resizing, which sharp does).
const MAX_SIDE: f64 = 4096.0;

pub fn decode(env: &Env, args: &[Value]) -> JsResult<Value> {
    let (kind, bytes) = env.typed_array_bytes(args[0], "bytes")?;
    if kind != NAPI_UINT8_ARRAY {
        return Err(JsError::type_error("bytes must be a Uint8Array (or Buffer)"));
    }
    let (height, width) = size(env, args)?;
    spawn_on_pool(env, "byol.decodeJpeg", move || pixels(torch::jpeg::decode_rgb(&bytes, height, width)?))
}

/// Reads the file on the pool thread too: an image folder then costs one trip to the pool per
/// file instead of one per file operation.
pub fn decode_file(env: &Env, args: &[Value]) -> JsResult<Value> {
    let path = env.to_string(args[0], "path")?;
    let (height, width) = size(env, args)?;
    spawn_on_pool(env, "byol.decodeJpegFile", move || match std::fs::read(&path) {
        Ok(bytes) => pixels(torch::jpeg::decode_rgb(&bytes, height, width)?),
        Err(_) => pixels(None), // the caller's decoder names what is wrong with the file
    })
}

/// `height` and `width` from arguments 1 and 2.
fn size(env: &Env, args: &[Value]) -> JsResult<(usize, usize)> {
    let side = |v: Value, name: &str| -> JsResult<usize> {
        let x = env.to_number(v, name)?;
        if !((1.0..=MAX_SIDE).contains(&x) && x.fract() == 0.0) {
            return Err(JsError::range_error(format!("{name} must be an integer in [1, {MAX_SIDE}], got {x}")));
        }
        Ok(x as usize)
    };
    Ok((side(args[1], "height")?, side(args[2], "width")?))
}

fn pixels(decoded: Option<Vec<u8>>) -> JsResult<Finish> {
    finish(move |env| match decoded {
        Some(p) => env.typed_array(NAPI_UINT8_ARRAY, &p, 1),
        None => env.null(),
    })
}

/// `jpegAvailable()`: whether the shim was built with libjpeg.
pub fn available(env: &Env, _args: &[Value]) -> JsResult<Value> {
    env.boolean(torch::jpeg::available())
}
