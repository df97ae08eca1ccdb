//! A data-parallel job from JavaScript: joining it, the small messages its ranks exchange
//! (rank 0's epoch results and checkpoint state, each rank's augmenter state), agreeing on a
//! stop, and leaving it. The gradients themselves never come here: the native trainer averages
//! them inside each step (trainerCreate's `group`).
use crate::js::{Env, Handle, JsError, JsResult, Value};
use crate::options::Options;
use crate::task::{finish, lock, spawn};
use byol::data_parallel::{Group, Rendezvous};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use torch::{Device, Kind, Tensor};

pub struct GroupHandle {
    /// None once left.
    pub group: Mutex<Option<Arc<Group>>>,
    pub device: Device,
}

impl Handle for GroupHandle {
    const KIND: &'static str = "a process group handle returned by groupJoin";
    const TAG: u64 = 0x6279_6f6c_6772_6f75; // "byolgrou"
}

pub fn group_of(env: &Env, value: Value) -> JsResult<Arc<Group>> {
    let h: &GroupHandle = env.handle(value, "group")?;
    lock(&h.group).clone().ok_or_else(|| JsError::error("this process group was left (groupLeave)"))
}

/// `distributedBackends() -> string[]`: the process-group backends of this build.
pub fn backends(env: &Env, _args: &[Value]) -> JsResult<Value> {
    let names = torch::distributed::backends().iter().map(|b| env.string(b)).collect::<JsResult<Vec<_>>>()?;
    env.array(&names)
}

/// `groupJoin({ rank, worldSize, masterAddr, masterPort, backend, timeoutSeconds, device,
/// agentRestart?, socketInterface? }) -> Promise<GroupHandle>`
pub fn join(env: &Env, args: &[Value]) -> JsResult<Value> {
    // Nothing here has a default: a job is joined only as the caller describes it (the
    // TypeScript layer fills in torchrun's defaults), never by accident on port 29500.
    let o = Options::new(env, args[0], "options")?;
    let integer = |key: &str, min: f64, max: f64| -> JsResult<f64> {
        let x = o.required_number(key, min, max)?;
        if x.fract() != 0.0 {
            return Err(JsError::range_error(format!("options.{key} must be an integer, got {x}")));
        }
        Ok(x)
    };
    let world_size = integer("worldSize", 1.0, (1 << 20) as f64)? as usize;
    let rank = integer("rank", 0.0, world_size as f64 - 1.0)? as usize;
    let master_port = integer("masterPort", 1.0, 65535.0)? as u16;
    let master_addr = o.string("masterAddr", "")?;
    if master_addr.is_empty() {
        return Err(JsError::type_error("options.masterAddr must be a host name or address"));
    }
    let agent_restart = o.optional_number("agentRestart", 0.0, u32::MAX as f64)?.map(|x| x as u32);
    let interface = o.string("socketInterface", "")?;
    let rendezvous = Rendezvous {
        master_addr,
        master_port,
        rank,
        world_size,
        backend: o.choice("backend", "gloo", &["gloo", "nccl"])?,
        timeout: Duration::from_secs_f64(o.number("timeoutSeconds", 300.0, 0.001, 1e7)?),
        agent_restart,
        interface: (!interface.is_empty()).then_some(interface),
    };
    let device = crate::config::device(&o.string("device", "cpu")?)?;
    spawn(env, "byol.groupJoin", move || {
        let group = Arc::new(Group::join(rendezvous)?);
        finish(move |env| env.external(GroupHandle { group: Mutex::new(Some(group)), device }))
    })
}

/// `groupPublish(group, key, value: string) -> Promise<void>`
pub fn publish(env: &Env, args: &[Value]) -> JsResult<Value> {
    let group = group_of(env, args[0])?;
    let (key, value) = (env.to_string(args[1], "key")?, env.to_string(args[2], "value")?);
    spawn(env, "byol.groupPublish", move || {
        group.publish(&key, value.as_bytes())?;
        finish(|env| env.undefined())
    })
}

/// `groupWaitFor(group, key, rank) -> Promise<string>`: what `rank` publishes under `key`, once
/// it has; fails when that rank is gone or another rank reported a failure.
pub fn wait_for(env: &Env, args: &[Value]) -> JsResult<Value> {
    let group = group_of(env, args[0])?;
    let key = env.to_string(args[1], "key")?;
    let rank = env.to_number(args[2], "rank")?;
    if rank < 0.0 || rank.fract() != 0.0 || rank as usize >= group.world_size() {
        return Err(JsError::range_error(format!("rank must be an integer below {}, got {rank}", group.world_size())));
    }
    spawn(env, "byol.groupWaitFor", move || {
        let bytes = group.wait_for(&key, rank as usize)?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        finish(move |env| env.string(&text))
    })
}

/// `groupAny(group, flag: boolean) -> Promise<boolean>`: whether any rank passed true (an
/// all-reduce, so every rank decides the same, at the same step).
pub fn any(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h: &GroupHandle = env.handle(args[0], "group")?;
    let device = h.device;
    let group = group_of(env, args[0])?;
    let flag = env.to_bool(args[1], "flag")?;
    spawn(env, "byol.groupAny", move || {
        let t = Tensor::full(&[1], flag as i64 as f64, Kind::Float, device)?;
        group.process_group().all_reduce_sum(&t)?.wait().map_err(|e| group.explain(e, "the agreement on stopping"))?;
        let any = t.to_f32_vec()?[0] > 0.0;
        finish(move |env| env.boolean(any))
    })
}

/// `groupReportFailure(group, message)`: tells the other ranks why this one stops (they name it
/// in their own error). Synchronous, so that it also works while the compute thread is stuck.
pub fn report_failure(env: &Env, args: &[Value]) -> JsResult<Value> {
    let group = group_of(env, args[0])?;
    group.report_failure(&env.to_string(args[1], "message")?);
    env.undefined()
}

/// `groupLeave(group, { finish }) -> Promise<void>`: with `finish`, waits until every rank has
/// finished (rank 0 hosts the store and must leave last); then closes this rank's connections.
pub fn leave(env: &Env, args: &[Value]) -> JsResult<Value> {
    let h: &GroupHandle = env.handle(args[0], "group")?;
    let finish_first = Options::new(env, args[1], "options")?.boolean("finish", false)?;
    let group = lock(&h.group).take();
    spawn(env, "byol.groupLeave", move || {
        if let (Some(g), true) = (&group, finish_first) {
            g.finish()?;
        }
        drop(group);
        finish(|env| env.undefined())
    })
}
