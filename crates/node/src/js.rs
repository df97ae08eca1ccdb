//! A small safe layer over Node-API values: reading arguments, building results, errors.
use crate::napi::*;
use std::ffi::CString;
use std::os::raw::c_void;
use std::ptr::null_mut;

/// Which JavaScript error class an error becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Error,
    TypeError,
    RangeError,
}

#[derive(Debug, Clone)]
pub struct JsError {
    pub kind: ErrorKind,
    pub message: String,
}

impl JsError {
    pub fn error(message: impl Into<String>) -> Self {
        JsError { kind: ErrorKind::Error, message: message.into() }
    }
    pub fn type_error(message: impl Into<String>) -> Self {
        JsError { kind: ErrorKind::TypeError, message: message.into() }
    }
    pub fn range_error(message: impl Into<String>) -> Self {
        JsError { kind: ErrorKind::RangeError, message: message.into() }
    }
}

impl From<torch::TorchError> for JsError {
    fn from(e: torch::TorchError) -> Self {
        JsError::error(e.message)
    }
}

pub type JsResult<T> = Result<T, JsError>;

/// A native object that JavaScript holds as an external. Each kind has its own type tag, so the
/// addon never reads one kind's memory as another's.
pub trait Handle: Send + 'static {
    /// The expected kind, as errors name it: "a model handle returned by byolCreate".
    const KIND: &'static str;
    /// The kind's half of the type tag (unique per kind).
    const TAG: u64;
}

/// The addon's half of every handle's type tag ("byolhndl").
const HANDLE_TAG: u64 = 0x6279_6f6c_686e_646c;

/// A JavaScript value borrowed for the duration of one native call.
pub type Value = napi_value;

#[derive(Clone, Copy)]
pub struct Env(pub napi_env);

fn status(s: napi_status, what: &str) -> JsResult<()> {
    if s == NAPI_OK {
        Ok(())
    } else {
        Err(JsError::error(format!("Node-API call {what} failed with status {s}")))
    }
}

/// Turns a Rust panic payload into an error message.
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> JsError {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    JsError::error(format!("internal error in byol's native code: {text}"))
}

impl Env {
    pub fn null(&self) -> JsResult<Value> {
        let mut v = null_mut();
        status(unsafe { napi_get_null(self.0, &mut v) }, "get_null")?;
        Ok(v)
    }

    /// The names of an object's enumerable string properties (`for ... in`).
    pub fn own_keys(&self, object: Value) -> JsResult<Vec<String>> {
        let mut names = null_mut();
        status(unsafe { napi_get_property_names(self.0, object, &mut names) }, "get_property_names")?;
        self.array_items(names, "keys")?.into_iter().map(|k| self.to_string(k, "key")).collect()
    }

    pub fn undefined(&self) -> JsResult<Value> {
        let mut v = null_mut();
        status(unsafe { napi_get_undefined(self.0, &mut v) }, "get_undefined")?;
        Ok(v)
    }

    pub fn boolean(&self, b: bool) -> JsResult<Value> {
        let mut v = null_mut();
        status(unsafe { napi_get_boolean(self.0, b, &mut v) }, "get_boolean")?;
        Ok(v)
    }

    pub fn number(&self, x: f64) -> JsResult<Value> {
        let mut v = null_mut();
        status(unsafe { napi_create_double(self.0, x, &mut v) }, "create_double")?;
        Ok(v)
    }

    pub fn string(&self, s: &str) -> JsResult<Value> {
        let mut v = null_mut();
        status(unsafe { napi_create_string_utf8(self.0, s.as_ptr().cast(), s.len(), &mut v) }, "create_string")?;
        Ok(v)
    }

    pub fn object(&self) -> JsResult<Value> {
        let mut v = null_mut();
        status(unsafe { napi_create_object(self.0, &mut v) }, "create_object")?;
        Ok(v)
    }

    pub fn array(&self, items: &[Value]) -> JsResult<Value> {
        let mut v = null_mut();
        status(unsafe { napi_create_array_with_length(self.0, items.len(), &mut v) }, "create_array")?;
        for (i, item) in items.iter().enumerate() {
            status(unsafe { napi_set_element(self.0, v, i as u32, *item) }, "set_element")?;
        }
        Ok(v)
    }

    pub fn set(&self, object: Value, key: &str, value: Value) -> JsResult<()> {
        let key = CString::new(key).expect("property names have no NUL");
        status(unsafe { napi_set_named_property(self.0, object, key.as_ptr(), value) }, "set_named_property")
    }

    pub fn get(&self, object: Value, key: &str) -> JsResult<Value> {
        let key = CString::new(key).expect("property names have no NUL");
        let mut v = null_mut();
        status(unsafe { napi_get_named_property(self.0, object, key.as_ptr(), &mut v) }, "get_named_property")?;
        Ok(v)
    }

    pub fn type_of(&self, v: Value) -> JsResult<i32> {
        let mut t = 0;
        status(unsafe { napi_typeof(self.0, v, &mut t) }, "typeof")?;
        Ok(t)
    }

    pub fn is_nullish(&self, v: Value) -> JsResult<bool> {
        Ok(v.is_null() || matches!(self.type_of(v)?, NAPI_UNDEFINED | NAPI_NULL))
    }

    pub fn to_number(self, v: Value, name: &str) -> JsResult<f64> {
        if self.type_of(v)? != NAPI_NUMBER {
            return Err(JsError::type_error(format!("{name} must be a number")));
        }
        let mut x = 0.0;
        status(unsafe { napi_get_value_double(self.0, v, &mut x) }, "get_value_double")?;
        Ok(x)
    }

    pub fn to_bool(self, v: Value, name: &str) -> JsResult<bool> {
        if self.type_of(v)? != NAPI_BOOLEAN {
            return Err(JsError::type_error(format!("{name} must be a boolean")));
        }
        let mut b = false;
        status(unsafe { napi_get_value_bool(self.0, v, &mut b) }, "get_value_bool")?;
        Ok(b)
    }

    pub fn to_string(self, v: Value, name: &str) -> JsResult<String> {
        if self.type_of(v)? != NAPI_STRING {
            return Err(JsError::type_error(format!("{name} must be a string")));
        }
        let mut len = 0usize;
        status(unsafe { napi_get_value_string_utf8(self.0, v, null_mut(), 0, &mut len) }, "get_value_string")?;
        let mut buf = vec![0u8; len + 1];
        status(
            unsafe { napi_get_value_string_utf8(self.0, v, buf.as_mut_ptr().cast(), buf.len(), &mut len) },
            "get_value_string",
        )?;
        buf.truncate(len);
        String::from_utf8(buf).map_err(|_| JsError::type_error(format!("{name} is not valid UTF-8")))
    }

    pub fn to_object(self, v: Value, name: &str) -> JsResult<Value> {
        if self.type_of(v)? != NAPI_OBJECT {
            return Err(JsError::type_error(format!("{name} must be an object")));
        }
        Ok(v)
    }

    pub fn array_items(&self, v: Value, name: &str) -> JsResult<Vec<Value>> {
        let mut is_array = false;
        status(unsafe { napi_is_array(self.0, v, &mut is_array) }, "is_array")?;
        if !is_array {
            return Err(JsError::type_error(format!("{name} must be an array")));
        }
        let mut len = 0u32;
        status(unsafe { napi_get_array_length(self.0, v, &mut len) }, "get_array_length")?;
        (0..len)
            .map(|i| {
                let mut item = null_mut();
                status(unsafe { napi_get_element(self.0, v, i, &mut item) }, "get_element")?;
                Ok(item)
            })
            .collect()
    }

    /// Reads a typed array: its element type code and a copy of its bytes.
    pub fn typed_array_bytes(&self, v: Value, name: &str) -> JsResult<(i32, Vec<u8>)> {
        let mut is_typed = false;
        status(unsafe { napi_is_typedarray(self.0, v, &mut is_typed) }, "is_typedarray")?;
        if !is_typed {
            return Err(JsError::type_error(format!("{name} must be a Float32Array, Uint8Array or BigInt64Array")));
        }
        let (mut kind, mut len, mut data, mut offset) = (0, 0usize, null_mut::<c_void>(), 0usize);
        let mut buffer = null_mut();
        status(
            unsafe { napi_get_typedarray_info(self.0, v, &mut kind, &mut len, &mut data, &mut buffer, &mut offset) },
            "get_typedarray_info",
        )?;
        let element = match kind {
            NAPI_UINT8_ARRAY => 1,
            NAPI_FLOAT32_ARRAY => 4,
            NAPI_BIGINT64_ARRAY => 8,
            _ => {
                return Err(JsError::type_error(format!("{name} must be a Float32Array, Uint8Array or BigInt64Array")))
            }
        };
        let bytes = if len == 0 {
            Vec::new()
        } else {
            unsafe { std::slice::from_raw_parts(data as *const u8, len * element) }.to_vec()
        };
        Ok((kind, bytes))
    }

    /// A new typed array of `kind` holding a copy of `bytes`.
    pub fn typed_array(&self, kind: i32, bytes: &[u8], element: usize) -> JsResult<Value> {
        let mut data = null_mut::<c_void>();
        let mut buffer = null_mut();
        status(unsafe { napi_create_arraybuffer(self.0, bytes.len(), &mut data, &mut buffer) }, "create_arraybuffer")?;
        if !bytes.is_empty() {
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), data as *mut u8, bytes.len()) };
        }
        let mut array = null_mut();
        status(
            unsafe { napi_create_typedarray(self.0, kind, bytes.len() / element, buffer, 0, &mut array) },
            "create_typedarray",
        )?;
        Ok(array)
    }

    /// A `Float32Array` over `elements` floats at `data` without copying them: memory that `owner`
    /// keeps alive until the array is garbage-collected. `None` (and `owner` dropped) when the
    /// runtime refuses external buffers.
    pub fn external_float32_array<T: 'static>(
        &self,
        owner: T,
        data: *mut c_void,
        elements: usize,
    ) -> JsResult<Option<Value>> {
        unsafe extern "C" fn release<T>(_env: napi_env, _data: *mut c_void, hint: *mut c_void) {
            drop(Box::from_raw(hint as *mut T));
        }
        let hint = Box::into_raw(Box::new(owner));
        let mut buffer = null_mut();
        let length = elements * std::mem::size_of::<f32>();
        let s = unsafe {
            napi_create_external_arraybuffer(self.0, data, length, Some(release::<T>), hint.cast(), &mut buffer)
        };
        if s != NAPI_OK {
            drop(unsafe { Box::from_raw(hint) });
            return Ok(None);
        }
        let mut array = null_mut();
        status(
            unsafe { napi_create_typedarray(self.0, NAPI_FLOAT32_ARRAY, elements, buffer, 0, &mut array) },
            "create_typedarray",
        )?;
        Ok(Some(array))
    }

    /// A new external holding `value`, type-tagged as a `T`.
    pub fn external<T: Handle>(&self, value: T) -> JsResult<Value> {
        unsafe extern "C" fn finalize<T>(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
            drop(Box::from_raw(data as *mut T));
        }
        let raw = Box::into_raw(Box::new(value));
        let mut v = null_mut();
        let s = unsafe { napi_create_external(self.0, raw.cast(), Some(finalize::<T>), null_mut(), &mut v) };
        if s != NAPI_OK {
            drop(unsafe { Box::from_raw(raw) });
        }
        status(s, "create_external")?;
        let tag = napi_type_tag { lower: T::TAG, upper: HANDLE_TAG };
        status(unsafe { napi_type_tag_object(self.0, v, &tag) }, "type_tag_object")?;
        Ok(v)
    }

    /// The `T` behind an external made by [`Env::external`] as a `T`. Anything else (another
    /// kind of handle, an external of another addon, a plain object) is a `TypeError` naming the
    /// expected kind, found from the tag alone: no memory is read before the tag matches.
    pub fn handle<T: Handle>(&self, v: Value, name: &str) -> JsResult<&T> {
        let wrong = || JsError::type_error(format!("{name} must be {}", T::KIND));
        if self.type_of(v)? != NAPI_EXTERNAL {
            return Err(wrong());
        }
        let tag = napi_type_tag { lower: T::TAG, upper: HANDLE_TAG };
        let mut matches = false;
        status(unsafe { napi_check_object_type_tag(self.0, v, &tag, &mut matches) }, "check_object_type_tag")?;
        if !matches {
            return Err(wrong());
        }
        let mut data = null_mut();
        status(unsafe { napi_get_value_external(self.0, v, &mut data) }, "get_value_external")?;
        Ok(unsafe { &*(data as *const T) })
    }

    pub fn error_value(&self, err: &JsError) -> JsResult<Value> {
        let msg = self.string(&err.message)?;
        let mut v = null_mut();
        let s = unsafe {
            match err.kind {
                ErrorKind::Error => napi_create_error(self.0, null_mut(), msg, &mut v),
                ErrorKind::TypeError => napi_create_type_error(self.0, null_mut(), msg, &mut v),
                ErrorKind::RangeError => napi_create_range_error(self.0, null_mut(), msg, &mut v),
            }
        };
        status(s, "create_error")?;
        Ok(v)
    }

    pub fn throw(&self, err: &JsError) {
        let mut pending = false;
        unsafe { napi_is_exception_pending(self.0, &mut pending) };
        if pending {
            return;
        }
        if let Ok(v) = self.error_value(err) {
            unsafe { napi_throw(self.0, v) };
        }
    }
}
