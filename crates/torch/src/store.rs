use crate::device::{Device, Kind};
use crate::error::{Result, TorchError};
use crate::generator::Generator;
use crate::grad::no_grad;
use crate::tensor::Tensor;

/// Whether an entry is trained (parameter) or only carried along (a BatchNorm statistic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Parameter,
    Buffer,
}

pub struct Entry {
    pub name: String,
    pub tensor: Tensor,
    pub role: Role,
}

/// The named tensors of one network, in registration order, with PyTorch's dotted names
/// (`layer1.0.conv1.weight`). Saving, loading, optimizers and the EMA all go through it.
pub struct ParamStore {
    entries: Vec<Entry>,
    device: Device,
    generator: Generator,
}

impl ParamStore {
    /// An empty store whose initialisers draw from a generator seeded with `seed`.
    pub fn new(device: Device, seed: u64) -> Result<ParamStore> {
        // Weights are drawn on the CPU and moved, so a seed gives the same model on every device.
        Ok(ParamStore { entries: Vec::new(), device, generator: Generator::new(seed, Device::Cpu)? })
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn root(&mut self) -> Path<'_> {
        Path { store: self, prefix: String::new() }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.entries.iter().find(|e| e.name == name).map(|e| &e.tensor)
    }

    /// Handles to the trainable tensors, in registration order.
    pub fn parameters(&self) -> Result<Vec<Tensor>> {
        self.with_role(Role::Parameter)
    }

    pub fn buffers(&self) -> Result<Vec<Tensor>> {
        self.with_role(Role::Buffer)
    }

    fn with_role(&self, role: Role) -> Result<Vec<Tensor>> {
        self.entries.iter().filter(|e| e.role == role).map(|e| e.tensor.alias()).collect()
    }

    /// Copies every value from host data. The names must be exactly this store's names and every
    /// shape must match; nothing is written unless all of them do.
    pub fn load(&self, values: &[(String, Kind, Vec<i64>, Vec<u8>)]) -> Result<()> {
        let mut missing: Vec<&str> = Vec::new();
        for e in &self.entries {
            if !values.iter().any(|(n, ..)| n == &e.name) {
                missing.push(&e.name);
            }
        }
        let unexpected: Vec<&str> =
            values.iter().filter(|(n, ..)| self.get(n).is_none()).map(|(n, ..)| n.as_str()).collect();
        if !missing.is_empty() || !unexpected.is_empty() {
            return Err(TorchError::new(format!(
                "parameters do not match the model: missing [{}], unexpected [{}]",
                missing.join(", "),
                unexpected.join(", ")
            )));
        }
        let mut staged = Vec::with_capacity(values.len());
        for (name, kind, shape, bytes) in values {
            let target = self.get(name).expect("checked above");
            let expected = target.shape()?;
            if &expected != shape {
                return Err(TorchError::new(format!("{name}: expected shape {expected:?}, got {shape:?}")));
            }
            let value = Tensor::from_bytes(bytes, *kind, shape, Device::Cpu)
                .map_err(|e| TorchError::new(format!("{name}: {}", e.message)))?;
            staged.push((target, value));
        }
        no_grad(|| staged.iter().try_for_each(|(target, value)| target.copy_(value)))
    }

    /// Copies every value of `other` (same names and shapes) into this store.
    pub fn copy_from(&self, other: &ParamStore) -> Result<()> {
        no_grad(|| {
            for e in &self.entries {
                let src = other
                    .get(&e.name)
                    .ok_or_else(|| TorchError::new(format!("copy_from: {} missing in source", e.name)))?;
                e.tensor.copy_(src)?;
            }
            Ok(())
        })
    }
}

/// A position in the store's name tree; `sub` descends one level.
pub struct Path<'a> {
    store: &'a mut ParamStore,
    prefix: String,
}

impl<'a> Path<'a> {
    pub fn sub(&mut self, name: &str) -> Path<'_> {
        let prefix = if self.prefix.is_empty() { name.to_string() } else { format!("{}.{}", self.prefix, name) };
        Path { store: self.store, prefix }
    }

    pub fn device(&self) -> Device {
        self.store.device
    }

    pub fn generator(&self) -> &Generator {
        &self.store.generator
    }

    fn name(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{}", self.prefix, name)
        }
    }

    fn register(&mut self, name: &str, value: Tensor, role: Role) -> Result<Tensor> {
        let full = self.name(name);
        if self.store.get(&full).is_some() {
            return Err(TorchError::new(format!("parameter {full} registered twice")));
        }
        let tensor = value.to_device(self.store.device)?;
        if role == Role::Parameter {
            tensor.set_requires_grad(true)?;
        }
        let handle = tensor.alias()?;
        self.store.entries.push(Entry { name: full, tensor, role });
        Ok(handle)
    }

    /// Registers a trainable tensor (initialised on the CPU) and returns a handle to it.
    pub fn parameter(&mut self, name: &str, value: Tensor) -> Result<Tensor> {
        self.register(name, value, Role::Parameter)
    }

    pub fn buffer(&mut self, name: &str, value: Tensor) -> Result<Tensor> {
        self.register(name, value, Role::Buffer)
    }
}
