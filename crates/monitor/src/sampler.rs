//! `Sampler` — where the monitor's numbers come from — and `SystemSampler`,
//! which reads the host and a process through `sysinfo`.

use std::collections::HashMap;
use std::time::Instant;

use sysinfo::{
    CpuRefreshKind, DiskRefreshKind, Disks, MemoryRefreshKind, Networks, Pid, ProcessRefreshKind,
    ProcessesToUpdate, RefreshKind, System,
};

use crate::error::MonitorError;
use crate::series::Point;

/// A source of measured points, called once per monitor tick. Implement it
/// to feed the monitor your own numbers (tests use a fake one).
pub trait Sampler: Send + 'static {
    /// Appends this tick's points to `out`.
    fn sample(&mut self, out: &mut Vec<Point>);
}

impl<F: FnMut(&mut Vec<Point>) + Send + 'static> Sampler for F {
    fn sample(&mut self, out: &mut Vec<Point>) {
        self(out)
    }
}

/// Which groups of host and process numbers a [`SystemSampler`] refreshes.
/// Only what is asked for is read from the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleKinds {
    /// Total and per-core CPU %.
    pub cpu: bool,
    /// Per-core CPU % too (needs `cpu`).
    pub per_core: bool,
    /// 1, 5 and 15 minute load average.
    pub load: bool,
    /// Memory and swap.
    pub memory: bool,
    /// Per-mount used % and free bytes.
    pub disks: bool,
    /// Per-interface received/transmitted bytes and rates.
    pub network: bool,
    /// The watched process: RSS, virtual memory, CPU %, threads, uptime.
    pub process: bool,
}

impl SampleKinds {
    /// Everything.
    pub const fn all() -> Self {
        Self {
            cpu: true,
            per_core: true,
            load: true,
            memory: true,
            disks: true,
            network: true,
            process: true,
        }
    }

    /// Nothing (turn groups on one by one).
    pub const fn none() -> Self {
        Self {
            cpu: false,
            per_core: false,
            load: false,
            memory: false,
            disks: false,
            network: false,
            process: false,
        }
    }

    /// Total CPU % and memory only: the cheapest useful sample.
    pub const fn cpu_and_memory() -> Self {
        Self {
            cpu: true,
            memory: true,
            ..Self::none()
        }
    }
}

impl Default for SampleKinds {
    fn default() -> Self {
        Self::all()
    }
}

/// Reads real host and process numbers through `sysinfo`, refreshing only
/// the [`SampleKinds`] asked for. CPU percentages (host and process) are
/// measured between two calls, so they are reported from the second call
/// on: the first call has nothing to measure against, and a 0 there would
/// be a figure nobody measured.
///
/// Points it produces (bytes, percent 0–100, seconds):
///
/// | group | points |
/// |---|---|
/// | cpu | `cpu_usage_percent`, `cpu_core_usage_percent{core}` |
/// | load | `load_average_1m`, `load_average_5m`, `load_average_15m` |
/// | memory | `memory_total_bytes`, `memory_used_bytes`, `memory_available_bytes`, `memory_used_percent`, `swap_total_bytes`, `swap_used_bytes` |
/// | disks | `disk_used_percent{mount}`, `disk_free_bytes{mount}`, `disk_total_bytes{mount}` |
/// | network | `network_received_bytes{interface}`, `network_transmitted_bytes{interface}`, `network_received_bytes_per_second{interface}`, `network_transmitted_bytes_per_second{interface}` |
/// | process | `process_resident_memory_bytes`, `process_virtual_memory_bytes`, `process_cpu_percent` (100 = one core; from the second sample on), `process_threads`, `process_uptime_seconds` |
#[derive(Debug)]
pub struct SystemSampler {
    kinds: SampleKinds,
    system: System,
    disks: Option<Disks>,
    networks: Option<Networks>,
    pid: Pid,
    last_network: Option<Instant>,
    cpu_primed: bool,
    process_cpu_primed: bool,
    totals: HashMap<String, (u64, u64)>,
}

impl SystemSampler {
    /// A sampler of everything, watching the current process.
    pub fn new() -> Result<Self, MonitorError> {
        Self::with_kinds(SampleKinds::all())
    }

    /// A sampler of the given groups, watching the current process.
    pub fn with_kinds(kinds: SampleKinds) -> Result<Self, MonitorError> {
        let pid = sysinfo::get_current_pid().map_err(|e| MonitorError::System(e.to_string()))?;
        Self::for_pid(kinds, pid.as_u32())
    }

    /// A sampler of the given groups, watching process `pid`.
    pub fn for_pid(kinds: SampleKinds, pid: u32) -> Result<Self, MonitorError> {
        let system = System::new_with_specifics(RefreshKind::nothing())
            .map_err(|e| MonitorError::System(e.to_string()))?;
        let disks = if kinds.disks {
            Some(
                Disks::new_with_refreshed_list_specifics(DiskRefreshKind::nothing().with_storage())
                    .map_err(|e| MonitorError::System(e.to_string()))?,
            )
        } else {
            None
        };
        let networks = if kinds.network {
            Some(
                Networks::new_with_refreshed_list()
                    .map_err(|e| MonitorError::System(e.to_string()))?,
            )
        } else {
            None
        };
        Ok(Self {
            kinds,
            system,
            disks,
            networks,
            pid: Pid::from_u32(pid),
            last_network: None,
            cpu_primed: false,
            process_cpu_primed: false,
            totals: HashMap::new(),
        })
    }

    /// The groups this sampler refreshes.
    pub fn kinds(&self) -> SampleKinds {
        self.kinds
    }

    /// Refreshes the asked-for groups and returns the points.
    pub fn sample_now(&mut self) -> Vec<Point> {
        let mut out = Vec::with_capacity(32);
        self.sample_into(&mut out);
        out
    }

    fn sample_into(&mut self, out: &mut Vec<Point>) {
        let k = self.kinds;
        let mut refresh = RefreshKind::nothing();
        if k.cpu {
            refresh = refresh.with_cpu(CpuRefreshKind::nothing().with_usage());
        }
        if k.memory {
            refresh = refresh.with_memory(MemoryRefreshKind::everything());
        }
        self.system.refresh_specifics(refresh);
        if k.cpu {
            if self.cpu_primed {
                out.push(Point::new(
                    "cpu_usage_percent",
                    f64::from(self.system.global_cpu_usage()),
                ));
                if k.per_core {
                    for (i, cpu) in self.system.cpus().iter().enumerate() {
                        let core = i.to_string();
                        out.push(Point::labelled(
                            "cpu_core_usage_percent",
                            &[("core", &core)],
                            f64::from(cpu.usage()),
                        ));
                    }
                }
            }
            self.cpu_primed = true;
        }
        if k.load
            && let Ok(load) = System::load_average()
        {
            out.push(Point::new("load_average_1m", load.one));
            out.push(Point::new("load_average_5m", load.five));
            out.push(Point::new("load_average_15m", load.fifteen));
        }
        if k.memory {
            let s = &self.system;
            let total = s.total_memory();
            let available = s.available_memory();
            let used = total.saturating_sub(available);
            out.push(Point::new("memory_total_bytes", total as f64));
            out.push(Point::new("memory_used_bytes", used as f64));
            out.push(Point::new("memory_available_bytes", available as f64));
            if total > 0 {
                out.push(Point::new(
                    "memory_used_percent",
                    used as f64 * 100.0 / total as f64,
                ));
            }
            out.push(Point::new("swap_total_bytes", s.total_swap() as f64));
            out.push(Point::new("swap_used_bytes", s.used_swap() as f64));
        }
        if let Some(disks) = &mut self.disks {
            disks.refresh_specifics(false, DiskRefreshKind::nothing().with_storage());
            for d in disks.iter() {
                let total = d.total_space();
                if total == 0 {
                    continue;
                }
                let free = d.available_space();
                let mount = d.mount_point().to_string_lossy();
                let labels = [("mount", mount.as_ref())];
                out.push(Point::labelled(
                    "disk_used_percent",
                    &labels,
                    total.saturating_sub(free) as f64 * 100.0 / total as f64,
                ));
                out.push(Point::labelled("disk_free_bytes", &labels, free as f64));
                out.push(Point::labelled("disk_total_bytes", &labels, total as f64));
            }
        }
        if let Some(networks) = &mut self.networks {
            networks.refresh(true);
            let now = Instant::now();
            let elapsed = self
                .last_network
                .map(|t| now.duration_since(t).as_secs_f64());
            self.last_network = Some(now);
            for (name, data) in networks.iter() {
                let name = name.to_string_lossy();
                let labels = [("interface", name.as_ref())];
                let (rx, tx) = (data.total_received(), data.total_transmitted());
                out.push(Point::labelled(
                    "network_received_bytes",
                    &labels,
                    rx as f64,
                ));
                out.push(Point::labelled(
                    "network_transmitted_bytes",
                    &labels,
                    tx as f64,
                ));
                let prev = self.totals.insert(name.to_string(), (rx, tx));
                if let (Some((prx, ptx)), Some(secs)) = (prev, elapsed)
                    && secs > 0.0
                {
                    out.push(Point::labelled(
                        "network_received_bytes_per_second",
                        &labels,
                        rx.saturating_sub(prx) as f64 / secs,
                    ));
                    out.push(Point::labelled(
                        "network_transmitted_bytes_per_second",
                        &labels,
                        tx.saturating_sub(ptx) as f64 / secs,
                    ));
                }
            }
        }
        if k.process {
            self.system.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[self.pid]),
                true,
                ProcessRefreshKind::nothing()
                    .with_memory()
                    .with_cpu()
                    .with_tasks(),
            );
            if let Some(p) = self.system.process(self.pid) {
                out.push(Point::new(
                    "process_resident_memory_bytes",
                    p.memory() as f64,
                ));
                out.push(Point::new(
                    "process_virtual_memory_bytes",
                    p.virtual_memory() as f64,
                ));
                // Measured since the previous refresh: none on the first.
                if self.process_cpu_primed {
                    out.push(Point::new("process_cpu_percent", f64::from(p.cpu_usage())));
                }
                self.process_cpu_primed = true;
                if let Some(tasks) = p.tasks() {
                    out.push(Point::new("process_threads", tasks.len() as f64));
                }
                out.push(Point::new("process_uptime_seconds", p.run_time() as f64));
            }
        }
    }
}

impl Sampler for SystemSampler {
    fn sample(&mut self, out: &mut Vec<Point>) {
        self.sample_into(out);
    }
}

/// The resident set size of the current process in bytes, read through
/// `sysinfo` (refreshing only this process's memory).
pub fn current_rss() -> Option<u64> {
    let pid = sysinfo::get_current_pid().ok()?;
    let mut system = System::new_with_specifics(RefreshKind::nothing()).ok()?;
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        false,
        ProcessRefreshKind::nothing().with_memory(),
    );
    system.process(pid).map(|p| p.memory())
}
