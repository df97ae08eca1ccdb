//! The model options object of `byolCreate`, validated into a `ByolConfig`.
use crate::js::{Env, JsError, JsResult, Value};
use crate::options::Options;
use byol::{ByolConfig, Stem};
use torch::optim::{LarsConfig, OptimizerConfig, SgdConfig};
use torch::Device;

pub fn parse(env: &Env, value: Value) -> JsResult<ByolConfig> {
    let o = Options::new(env, value, "options")?;
    let defaults = ByolConfig::default();
    let config = ByolConfig {
        stem: Stem::parse(&o.choice("stem", "imagenet", &["imagenet", "cifar"])?)?,
        width: o.integer("width", defaults.width, 1, 4096)?,
        projection_hidden_dim: o.integer("projectionHiddenDim", defaults.projection_hidden_dim, 1, 1 << 16)?,
        projection_output_dim: o.integer("projectionOutputDim", defaults.projection_output_dim, 1, 1 << 16)?,
        prediction_hidden_dim: o.integer("predictionHiddenDim", defaults.prediction_hidden_dim, 1, 1 << 16)?,
        optimizer: optimizer(&o.sub("optimizer")?)?,
        ema_buffers: o.boolean("emaBuffers", defaults.ema_buffers)?,
        device: device(&o.string("device", "cpu")?)?,
        seed: o.integer("seed", 0, 0, 1 << 53)? as u64,
    };
    Ok(config)
}

fn optimizer(o: &Options) -> JsResult<OptimizerConfig> {
    let name = o.choice("name", "sgd", &["sgd", "lars"])?;
    let sgd = SgdConfig {
        lr: o.number("lr", 0.06, 0.0, f64::MAX)?,
        momentum: o.number("momentum", 0.0, 0.0, 1.0)?,
        dampening: o.number("dampening", 0.0, 0.0, 1.0)?,
        weight_decay: o.number("weightDecay", 0.0, 0.0, f64::MAX)?,
        nesterov: o.boolean("nesterov", false)?,
    };
    if sgd.nesterov && (sgd.momentum == 0.0 || sgd.dampening != 0.0) {
        return Err(JsError::range_error(
            "options.optimizer.nesterov needs momentum > 0 and dampening 0 (as torch.optim.SGD)",
        ));
    }
    Ok(match name.as_str() {
        "sgd" => OptimizerConfig::Sgd(sgd),
        _ => OptimizerConfig::Lars(LarsConfig {
            sgd,
            trust_coefficient: o.number("trustCoefficient", 0.001, 0.0, f64::MAX)?,
            eps: o.number("eps", 1e-8, 0.0, f64::MAX)?,
            exclude_bias_and_norm: o.boolean("excludeBiasAndNorm", false)?,
        }),
    })
}

/// `cpu`, `cuda`, `cuda:N` or `auto` (CUDA when a device is visible), checked against what
/// this libtorch can see.
pub fn device(text: &str) -> JsResult<Device> {
    let cuda_devices = torch::cuda_device_count()?;
    let device = if text == "auto" {
        if cuda_devices > 0 {
            Device::Cuda(0)
        } else {
            Device::Cpu
        }
    } else {
        Device::parse(text).map_err(|e| JsError::range_error(format!("options.device: {}", e.message)))?
    };
    if let Device::Cuda(i) = device {
        if i >= cuda_devices {
            return Err(JsError::error(format!(
                "options.device '{text}' requested, but {} (libtorch {})",
                if cuda_devices == 0 {
                    "CUDA is not available: this libtorch sees no CUDA device".to_string()
                } else {
                    format!("only {cuda_devices} CUDA device(s) are visible")
                },
                torch::version()?
            )));
        }
    }
    Ok(device)
}
