//! The ranks of a data-parallel job and how they meet: torchrun's rendezvous (rank 0, or
//! torchrun's agent, hosts a c10d TCPStore at MASTER_ADDR:MASTER_PORT), a check that every rank
//! agrees on the world size, a Gloo or NCCL process group, and a heartbeat per rank so that a
//! failure names the rank that is gone instead of only reporting a broken connection.
use std::net::{IpAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use torch::distributed::{Binding, ProcessGroup, Store};
use torch::{Result, TorchError};

/// How often each rank bumps its heartbeat counter, and how long a silent one is presumed gone.
const HEARTBEAT: Duration = Duration::from_millis(500);
const SILENCE: Duration = Duration::from_secs(4);
const POLL: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
pub struct Rendezvous {
    pub master_addr: String,
    pub master_port: u16,
    pub rank: usize,
    pub world_size: usize,
    /// `gloo` or `nccl`.
    pub backend: String,
    /// Bounds the rendezvous and every collective.
    pub timeout: Duration,
    /// torchrun's agent hosts the store: every rank is a client, under this restart's prefix.
    pub agent_restart: Option<u32>,
    /// The network interface Gloo binds to (GLOO_SOCKET_IFNAME).
    pub interface: Option<String>,
}

impl Rendezvous {
    fn prefix(&self) -> String {
        match self.agent_restart {
            // What torch.distributed puts in front of its keys in the agent's store.
            Some(attempt) => format!("/worker/attempt_{attempt}/byol"),
            None => "byol".into(),
        }
    }

    /// Who hosts the store.
    fn store_host(&self) -> &'static str {
        if self.agent_restart.is_some() {
            "torchrun's agent"
        } else {
            "rank 0"
        }
    }

    fn store_name(&self) -> String {
        format!("the rendezvous store at {}:{} ({})", self.master_addr, self.master_port, self.store_host())
    }

    fn connect(&self, is_server: bool, timeout: Duration) -> Result<Store> {
        Store::connect(&self.master_addr, self.master_port, is_server, timeout, &self.prefix())
    }

    /// `error` from a collective or the store during `during`, with what the store says about
    /// the other ranks: which one reported a failure, or which one's heartbeat stopped.
    fn explain(&self, error: TorchError, during: &str) -> TorchError {
        let (rank, world) = (self.rank, self.world_size);
        let cause = self.diagnose();
        TorchError::new(format!(
            "data-parallel training stopped on rank {rank} of {world} during {during}: {cause} ({})",
            error.message
        ))
    }

    fn stopped(&self, cause: &str, during: &str) -> TorchError {
        let (rank, world) = (self.rank, self.world_size);
        TorchError::new(format!("data-parallel training stopped on rank {rank} of {world} during {during}: {cause}"))
    }

    /// Like `explain`, while the ranks join: no heartbeats run yet, so only a store that no longer
    /// answers or a rank that reported a failure is a cause; otherwise the error stands alone.
    fn explain_joining(&self, error: TorchError, during: &str) -> TorchError {
        let cause = match self.store_or_cause() {
            Err(gone) => Some(gone),
            Ok(store) => self.reported_failure(&store),
        };
        match cause {
            Some(cause) => self.stopped(&format!("{cause} ({})", error.message), during),
            None => TorchError::new(format!("rank {}: {during} failed: {}", self.rank, error.message)),
        }
    }

    /// The first other rank that reported a failure, with its message.
    fn reported_failure(&self, store: &Store) -> Option<String> {
        (0..self.world_size).filter(|&r| r != self.rank).find_map(|r| {
            let key = format!("failed/{r}");
            store.check(&[&key]).unwrap_or(false).then(|| {
                let message = store.get(&key).map(|m| String::from_utf8_lossy(&m).into_owned()).unwrap_or_default();
                format!("rank {r} failed: {message}")
            })
        })
    }

    /// A fresh connection to the store, or why there is none. A live store answers at once; one
    /// that is gone must not cost the whole timeout again.
    fn store_or_cause(&self) -> std::result::Result<Store, String> {
        self.connect(false, SILENCE.min(self.timeout))
            .map_err(|_| format!("{} no longer answers, so {} is gone", self.store_name(), self.store_host()))
    }

    fn diagnose(&self) -> String {
        let store = match self.store_or_cause() {
            Ok(s) => s,
            Err(gone) => return gone,
        };
        if let Some(failure) = self.reported_failure(&store) {
            return failure;
        }
        let others: Vec<usize> = (0..self.world_size).filter(|&r| r != self.rank).collect();
        let before: Vec<i64> = others.iter().map(|r| store.add(&format!("heartbeat/{r}"), 0).unwrap_or(-1)).collect();
        std::thread::sleep(HEARTBEAT * 4);
        let gone: Vec<String> = others
            .iter()
            .zip(&before)
            .filter(|(r, b)| store.add(&format!("heartbeat/{r}"), 0).unwrap_or(-1) == **b)
            .map(|(r, _)| r.to_string())
            .collect();
        match gone.len() {
            0 => "every other rank is alive, so one is stuck or the network between them failed".into(),
            1 => format!("rank {} is gone (its process exited or its machine is unreachable)", gone[0]),
            _ => format!("ranks {} are gone (their processes exited or are unreachable)", gone.join(", ")),
        }
    }
}

/// This process's membership of a data-parallel job.
pub struct Group {
    rendezvous: Rendezvous,
    process_group: ProcessGroup,
    store: Mutex<Store>,
    heartbeat: Heartbeat,
    _lost_store: LostStoreNotice,
}

/// While a rank is a client of a store hosted elsewhere, a store connection that libtorch's own
/// watcher thread finds reset ends the process with this job's explanation (see
/// torch::distributed::set_lost_store_message) instead of a bare abort.
struct LostStoreNotice;

impl LostStoreNotice {
    fn new(r: &Rendezvous, hosts: bool) -> LostStoreNotice {
        if !hosts {
            let cause = format!("{} reset the connection, so {} is gone", r.store_name(), r.store_host());
            let message = r.stopped(&cause, "the job");
            torch::distributed::set_lost_store_message(Some(&message.message));
        }
        LostStoreNotice
    }
}

impl Drop for LostStoreNotice {
    fn drop(&mut self) {
        torch::distributed::set_lost_store_message(None);
    }
}

impl Group {
    /// Meets the other ranks and builds the process group. Every way this can fail (a port in
    /// use, an unreachable master, ranks that disagree on the world size or never come) ends
    /// within the rendezvous timeout with a message that says which.
    pub fn join(rendezvous: Rendezvous) -> Result<Group> {
        let r = &rendezvous;
        if r.rank >= r.world_size {
            return Err(TorchError::new(format!("RANK {} is not below WORLD_SIZE {}", r.rank, r.world_size)));
        }
        let hosts = r.rank == 0 && r.agent_restart.is_none();
        let store = r.connect(hosts, r.timeout).map_err(|e| {
            let what = if hosts {
                format!(
                    "rank 0 could not host the rendezvous store on port {} ({}); is another job using \
                     MASTER_PORT {}? Choose a free one (--master-port)",
                    r.master_port, e.message, r.master_port
                )
            } else {
                format!(
                    "rank {} could not reach {} within {} s ({}); check MASTER_ADDR and MASTER_PORT, and that \
                     rank 0 is running",
                    r.rank,
                    r.store_name(),
                    r.timeout.as_secs(),
                    e.message
                )
            };
            TorchError::new(what)
        })?;
        let lost_store = LostStoreNotice::new(r, hosts);
        check_in(r, &store)?;
        let address;
        let binding = match &r.interface {
            Some(i) => Binding::Interface(i),
            None => {
                address = local_address_towards(&r.master_addr, r.master_port)?;
                Binding::Address(&address)
            }
        };
        let process_group = ProcessGroup::new(&store, &r.backend, r.rank, r.world_size, r.timeout, binding)
            .map_err(|e| r.explain_joining(e, &format!("building the {} process group", r.backend)))?;
        let heartbeat = Heartbeat::start(r).map_err(|e| r.explain_joining(e, "starting its heartbeat"))?;
        Ok(Group { rendezvous, process_group, store: Mutex::new(store), heartbeat, _lost_store: lost_store })
    }

    pub fn rank(&self) -> usize {
        self.rendezvous.rank
    }

    pub fn world_size(&self) -> usize {
        self.rendezvous.world_size
    }

    pub fn process_group(&self) -> &ProcessGroup {
        &self.process_group
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publishes `value` under `key` for the other ranks.
    pub fn publish(&self, key: &str, value: &[u8]) -> Result<()> {
        self.store().set(&format!("data/{key}"), value).map_err(|e| self.explain(e, &format!("publishing {key}")))
    }

    /// The value `rank` publishes under `key`, waiting for it as long as that rank is alive
    /// (its heartbeat goes on) and no rank reported a failure.
    pub fn wait_for(&self, key: &str, rank: usize) -> Result<Vec<u8>> {
        let full = format!("data/{key}");
        let mut watch = Watch::new(rank);
        loop {
            let ready = self.store().check(&[&full]).map_err(|e| self.explain(e, &format!("waiting for {key}")))?;
            if ready {
                return self.store().get(&full).map_err(|e| self.explain(e, &format!("reading {key}")));
            }
            if let Some(cause) = watch.trouble(&self.store()) {
                return Err(self.stopped(&cause, &format!("waiting for {key}")));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Tells the other ranks that this one failed, and why (they report it instead of a broken
    /// connection).
    pub fn report_failure(&self, message: &str) {
        let _ = self.store().set(&format!("failed/{}", self.rank()), message.as_bytes());
    }

    /// Waits until every rank has called `finish`, so that rank 0, which hosts the store, leaves
    /// last.
    pub fn finish(&self) -> Result<()> {
        self.store().add("finished", 1).map_err(|e| self.explain(e, "finishing"))?;
        let mut watch = Watch::all(self.world_size(), self.rank());
        loop {
            let finished = self.store().add("finished", 0).map_err(|e| self.explain(e, "finishing"))?;
            if finished as usize >= self.world_size() {
                return Ok(());
            }
            if let Some(cause) = watch.trouble(&self.store()) {
                return Err(self.stopped(&cause, "finishing"));
            }
            std::thread::sleep(POLL);
        }
    }

    /// `error` from a collective or the store during `during`, with what the store says about
    /// the other ranks: which one reported a failure, or which one's heartbeat stopped.
    pub fn explain(&self, error: TorchError, during: &str) -> TorchError {
        self.rendezvous.explain(error, during)
    }

    fn stopped(&self, cause: &str, during: &str) -> TorchError {
        self.rendezvous.stopped(cause, during)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.heartbeat.stop();
    }
}

/// Every rank records the world size it was started with; each waits until all ranks have, and
/// fails at once on a disagreement or a duplicate rank.
fn check_in(r: &Rendezvous, store: &Store) -> Result<()> {
    // A store that breaks now (rank 0 gone while the others join) is explained, not just reported.
    let broken = |e: TorchError| r.explain_joining(e, "joining the job");
    let claims = store.add(&format!("claims/{}", r.rank), 1).map_err(broken)?;
    if claims > 1 {
        return Err(TorchError::new(format!(
            "two processes were started as rank {} of this job (RANK must be unique)",
            r.rank
        )));
    }
    store.set(&format!("world/{}", r.rank), r.world_size.to_string().as_bytes()).map_err(broken)?;
    let deadline = Instant::now() + r.timeout;
    let mut missing: Vec<usize> = (0..r.world_size).collect();
    loop {
        let mut still = Vec::new();
        for &k in &missing {
            let key = format!("world/{k}");
            if !store.check(&[&key]).map_err(broken)? {
                still.push(k);
                continue;
            }
            let theirs = String::from_utf8_lossy(&store.get(&key).map_err(broken)?).into_owned();
            if theirs != r.world_size.to_string() {
                return Err(TorchError::new(format!(
                    "the ranks disagree on WORLD_SIZE: rank {k} was started with {theirs}, rank {} with {}",
                    r.rank, r.world_size
                )));
            }
        }
        missing = still;
        if missing.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            let list: Vec<String> = missing.iter().map(|k| k.to_string()).collect();
            return Err(TorchError::new(format!(
                "rank {}: rank(s) {} of WORLD_SIZE {} did not join {} within {} s; start every rank, or lower WORLD_SIZE",
                r.rank,
                list.join(", "),
                r.world_size,
                r.store_name(),
                r.timeout.as_secs()
            )));
        }
        std::thread::sleep(POLL);
    }
}

/// The address of this machine that reaches `host` (where Gloo should listen so that the others
/// can connect): the route's source address, without sending anything.
fn local_address_towards(host: &str, port: u16) -> Result<String> {
    let socket = UdpSocket::bind(("0.0.0.0", 0)).map_err(|e| TorchError::new(format!("opening a socket: {e}")))?;
    socket
        .connect((host, port))
        .map_err(|e| TorchError::new(format!("MASTER_ADDR {host} is not reachable from this machine: {e}")))?;
    let ip: IpAddr = socket.local_addr().map_err(|e| TorchError::new(e.to_string()))?.ip();
    Ok(ip.to_string())
}

/// Watches heartbeat counters: a rank whose counter stands still for SILENCE is gone.
struct Watch {
    ranks: Vec<usize>,
    last: Vec<(i64, Instant)>,
}

impl Watch {
    fn new(rank: usize) -> Watch {
        Watch { ranks: vec![rank], last: vec![(-1, Instant::now())] }
    }

    fn all(world: usize, me: usize) -> Watch {
        let ranks: Vec<usize> = (0..world).filter(|&r| r != me).collect();
        let last = ranks.iter().map(|_| (-1, Instant::now())).collect();
        Watch { ranks, last }
    }

    /// Why waiting on the watched ranks is pointless: one reported a failure, or its heartbeat
    /// stopped (or the store itself is gone).
    fn trouble(&mut self, store: &Store) -> Option<String> {
        let now = Instant::now();
        for (r, (count, since)) in self.ranks.iter().zip(self.last.iter_mut()) {
            let failed = format!("failed/{r}");
            match store.check(&[&failed]) {
                Err(e) => return Some(format!("the rendezvous store no longer answers, so rank 0 is gone ({e})")),
                Ok(true) => {
                    let message =
                        store.get(&failed).map(|m| String::from_utf8_lossy(&m).into_owned()).unwrap_or_default();
                    return Some(format!("rank {r} failed: {message}"));
                }
                Ok(false) => {}
            }
            let current = store.add(&format!("heartbeat/{r}"), 0).unwrap_or(*count);
            if current != *count {
                *count = current;
                *since = now;
            } else if now.duration_since(*since) > SILENCE {
                return Some(format!("rank {r} is gone (its heartbeat stopped {} s ago)", SILENCE.as_secs()));
            }
        }
        None
    }
}

/// A thread that bumps this rank's heartbeat counter, on a store connection of its own.
struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    fn start(r: &Rendezvous) -> Result<Heartbeat> {
        let store = r.connect(false, r.timeout)?;
        let key = format!("heartbeat/{}", r.rank);
        store.add(&key, 1)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("byol-heartbeat".into())
            .spawn(move || {
                while !flag.load(Ordering::Acquire) {
                    std::thread::sleep(HEARTBEAT);
                    if store.add(&key, 1).is_err() {
                        return; // the store is gone; the next collective says so
                    }
                }
            })
            .map_err(|e| TorchError::new(format!("starting the heartbeat thread: {e}")))?;
        Ok(Heartbeat { stop, thread: Some(thread) })
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
