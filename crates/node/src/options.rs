//! Reading optional, validated fields of JavaScript option objects.
use crate::js::{Env, JsError, JsResult, Value};

pub struct Options<'a> {
    env: &'a Env,
    object: Option<Value>,
    name: String,
}

impl<'a> Options<'a> {
    /// `value` may be undefined or null (all defaults) or an object.
    pub fn new(env: &'a Env, value: Value, name: &str) -> JsResult<Options<'a>> {
        let object = if env.is_nullish(value)? { None } else { Some(env.to_object(value, name)?) };
        Ok(Options { env, object, name: name.to_string() })
    }

    fn field(&self, key: &str) -> JsResult<Option<Value>> {
        match self.object {
            None => Ok(None),
            Some(o) => {
                let v = self.env.get(o, key)?;
                Ok(if self.env.is_nullish(v)? { None } else { Some(v) })
            }
        }
    }

    fn path(&self, key: &str) -> String {
        format!("{}.{}", self.name, key)
    }

    pub fn sub(&self, key: &str) -> JsResult<Options<'a>> {
        match self.field(key)? {
            None => Ok(Options { env: self.env, object: None, name: self.path(key) }),
            Some(v) => Options::new(self.env, v, &self.path(key)),
        }
    }

    pub fn number(&self, key: &str, default: f64, min: f64, max: f64) -> JsResult<f64> {
        Ok(self.optional_number(key, min, max)?.unwrap_or(default))
    }

    pub fn optional_number(&self, key: &str, min: f64, max: f64) -> JsResult<Option<f64>> {
        let v = match self.field(key)? {
            Some(v) => v,
            None => return Ok(None),
        };
        let x = self.env.to_number(v, &self.path(key))?;
        if !(min..=max).contains(&x) {
            return Err(JsError::range_error(format!("{} must be in [{min}, {max}], got {x}", self.path(key))));
        }
        Ok(Some(x))
    }

    pub fn required_number(&self, key: &str, min: f64, max: f64) -> JsResult<f64> {
        self.optional_number(key, min, max)?
            .ok_or_else(|| JsError::type_error(format!("{} is required (a number)", self.path(key))))
    }

    pub fn integer(&self, key: &str, default: i64, min: i64, max: i64) -> JsResult<i64> {
        let x = self.number(key, default as f64, min as f64, max as f64)?;
        if x.fract() != 0.0 {
            return Err(JsError::range_error(format!("{} must be an integer, got {x}", self.path(key))));
        }
        Ok(x as i64)
    }

    pub fn boolean(&self, key: &str, default: bool) -> JsResult<bool> {
        match self.field(key)? {
            None => Ok(default),
            Some(v) => self.env.to_bool(v, &self.path(key)),
        }
    }

    /// A string that must be one of `allowed`.
    pub fn choice(&self, key: &str, default: &str, allowed: &[&str]) -> JsResult<String> {
        let s = match self.field(key)? {
            Some(v) => self.env.to_string(v, &self.path(key))?,
            None => return Ok(default.to_string()),
        };
        if !allowed.contains(&s.as_str()) {
            return Err(JsError::range_error(format!(
                "{} must be one of {}, got '{s}'",
                self.path(key),
                allowed.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(s)
    }

    pub fn string(&self, key: &str, default: &str) -> JsResult<String> {
        match self.field(key)? {
            None => Ok(default.to_string()),
            Some(v) => self.env.to_string(v, &self.path(key)),
        }
    }
}
