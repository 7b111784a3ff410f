//! SystemSampler against the kernel's own numbers (Linux /proc).

use std::time::{Duration, Instant};

use perfect21_monitor::{Point, SampleKinds, SystemSampler, current_rss};

fn value(points: &[Point], name: &str) -> Option<f64> {
    points.iter().find(|p| p.key.name == name).map(|p| p.value)
}

fn meminfo_kb(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").expect("read /proc/meminfo");
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .expect("field present");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn page_size() -> u64 {
    let out = std::process::Command::new("getconf")
        .arg("PAGESIZE")
        .output()
        .expect("getconf");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Resident bytes of `pid` ("self" for this process) from its statm.
fn statm_rss(pid: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/statm")).expect("read statm");
    let pages: u64 = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * page_size()
}

fn statm_rss_bytes() -> u64 {
    statm_rss("self")
}

#[test]
fn total_memory_equals_proc_meminfo() {
    let mut s = SystemSampler::with_kinds(SampleKinds::cpu_and_memory()).unwrap();
    let points = s.sample_now();
    let total = value(&points, "memory_total_bytes").expect("memory sampled");
    assert_eq!(total as u64, meminfo_kb("MemTotal") * 1024);
    let used = value(&points, "memory_used_percent").unwrap();
    assert!((0.0..=100.0).contains(&used), "{used}");
    // Only what was asked for.
    assert!(value(&points, "disk_used_percent").is_none());
    assert!(value(&points, "process_resident_memory_bytes").is_none());
}

#[test]
fn process_rss_matches_proc_self_statm() {
    // Touch some memory so RSS is not tiny.
    let ballast = vec![1u8; 8 << 20];
    let mut s = SystemSampler::with_kinds(SampleKinds {
        process: true,
        ..SampleKinds::none()
    })
    .unwrap();
    // Other tests in this binary run on other threads and move this
    // process's RSS: compare against statm read just before and just after.
    let before = statm_rss_bytes() as f64;
    let points = s.sample_now();
    let rss2 = current_rss().unwrap() as f64;
    let after = statm_rss_bytes() as f64;
    let rss = value(&points, "process_resident_memory_bytes").expect("process sampled");
    let (lo, hi) = (before.min(after) * 0.90, before.max(after) * 1.10);
    assert!(
        (lo..=hi).contains(&rss),
        "sysinfo RSS {rss} vs statm {before} before / {after} after"
    );
    assert!(
        (lo..=hi).contains(&rss2),
        "current_rss {rss2} vs statm {before} before / {after} after"
    );
    assert!(value(&points, "process_threads").unwrap() >= 1.0);
    assert!(value(&points, "process_virtual_memory_bytes").unwrap() >= rss);
    assert!(ballast.iter().all(|b| *b == 1));
}

#[test]
fn spinning_thread_shows_in_process_cpu() {
    let mut s = SystemSampler::with_kinds(SampleKinds {
        process: true,
        ..SampleKinds::none()
    })
    .unwrap();
    // sysinfo reports a process's CPU % from its second reading with a
    // non-zero CPU time on, so make sure the baseline has some.
    spin(Duration::from_millis(30));
    s.sample_now();
    let spinner = std::thread::spawn(|| spin(Duration::from_millis(400)));
    spinner.join().unwrap();
    let points = s.sample_now();
    let cpu = value(&points, "process_cpu_percent").unwrap();
    // One busy core for most of the window; idle is ~0. The machine is
    // shared, so only ask for "visibly busy".
    assert!(cpu > 10.0, "process CPU {cpu} %");
}

#[test]
fn full_sample_has_every_group() {
    let mut s = SystemSampler::new().unwrap();
    s.sample_now();
    let points = s.sample_now();
    for name in [
        "cpu_usage_percent",
        "cpu_core_usage_percent",
        "load_average_1m",
        "memory_used_bytes",
        "memory_available_bytes",
        "swap_total_bytes",
        "network_received_bytes",
        "network_received_bytes_per_second",
        "process_resident_memory_bytes",
        "process_cpu_percent",
        "process_uptime_seconds",
    ] {
        assert!(value(&points, name).is_some(), "{name} missing");
    }
    let cores = points
        .iter()
        .filter(|p| p.key.name == "cpu_core_usage_percent")
        .count();
    assert!(cores >= 1);
    let cpu = value(&points, "cpu_usage_percent").unwrap();
    assert!((0.0..=100.0).contains(&cpu));
}

fn spin(d: Duration) -> u64 {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < d {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
    x
}

#[test]
fn another_process_by_pid() {
    use std::io::{BufRead, Write};
    let mut child = std::process::Command::new("cat")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn cat");
    // One line echoed back means `cat` has finished loading and sits in its
    // read loop: its RSS no longer moves while we measure it.
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    stdin.write_all(b"ready\n").unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");

    let pid = child.id();
    let mut s = SystemSampler::for_pid(
        SampleKinds {
            process: true,
            ..SampleKinds::none()
        },
        pid,
    )
    .unwrap();
    let before = statm_rss(&pid.to_string()) as f64;
    let points = s.sample_now();
    let after = statm_rss(&pid.to_string()) as f64;
    let rss = value(&points, "process_resident_memory_bytes").expect("child sampled");
    let (lo, hi) = (before.min(after) * 0.90, before.max(after) * 1.10);
    assert!(
        (lo..=hi).contains(&rss),
        "sampled {rss}, /proc statm {before} before and {after} after"
    );
    drop(stdin);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn process_cpu_is_reported_from_the_second_sample_on() {
    let mut s = SystemSampler::with_kinds(SampleKinds {
        process: true,
        ..SampleKinds::none()
    })
    .unwrap();
    // The first reading has nothing to measure CPU time against: a 0
    // there would be a figure nobody measured.
    let first = s.sample_now();
    assert!(value(&first, "process_resident_memory_bytes").is_some());
    assert_eq!(value(&first, "process_cpu_percent"), None, "{first:?}");
    spin(Duration::from_millis(20));
    let second = s.sample_now();
    assert!(
        value(&second, "process_cpu_percent").is_some(),
        "{second:?}"
    );
}
