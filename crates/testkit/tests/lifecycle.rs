//! Each server starts, answers, and leaves nothing behind — no process, no
//! directory — when its handle drops or when its owner is killed.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use perfect21_testkit::resp::Reply;
use perfect21_testkit::{PgServer, RedisCluster, RedisServer, process_exists, sweep_orphans};

fn postgres_processes_in(dir: &std::path::Path) -> Vec<String> {
    // The postmaster's command line names its data directory.
    let needle = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| process_exists(pid))
        .filter_map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(&needle).then_some(cmdline)
        })
        .collect()
}

#[test]
fn redis_answers_then_leaves_nothing() {
    let server = RedisServer::start().unwrap();
    assert!(server.url().starts_with("redis://127.0.0.1:"));
    assert_eq!(
        server.command(&["PING"]).unwrap(),
        Reply::Status("PONG".into())
    );
    assert_eq!(
        server.command(&["SET", "k", "v"]).unwrap(),
        Reply::Status("OK".into())
    );
    assert_eq!(
        server.command(&["GET", "k"]).unwrap(),
        Reply::Bulk(Some(b"v".to_vec()))
    );
    // No persistence: nothing is ever saved to disk.
    let save = server.command(&["CONFIG", "GET", "save"]).unwrap();
    assert_eq!(
        save,
        Reply::Array(Some(vec![
            Reply::Bulk(Some(b"save".to_vec())),
            Reply::Bulk(Some(Vec::new()))
        ]))
    );
    let (pid, dir) = (server.pid().unwrap(), server.dir().to_path_buf());
    assert!(process_exists(pid) && dir.exists());
    drop(server);
    assert!(!process_exists(pid), "redis-server {pid} still running");
    assert!(!dir.exists(), "{} still exists", dir.display());
}

#[test]
fn redis_with_tls_serves_both_ports_then_leaves_nothing() {
    let server = RedisServer::start_tls().unwrap();
    let tls_url = server.tls_url().unwrap();
    let tls_port: u16 = tls_url.rsplit(':').next().unwrap().parse().unwrap();
    assert!(tls_url.starts_with("rediss://127.0.0.1:") && tls_port != server.port());
    assert_eq!(
        server.command(&["PING"]).unwrap(),
        Reply::Status("PONG".into())
    );
    // The server listens on the TLS port with the certificate made for it.
    let config = server.command(&["CONFIG", "GET", "tls-port"]).unwrap();
    assert_eq!(
        config,
        Reply::Array(Some(vec![
            Reply::Bulk(Some(b"tls-port".to_vec())),
            Reply::Bulk(Some(tls_port.to_string().into_bytes()))
        ]))
    );
    let ca = server.ca_cert().unwrap();
    let pem = std::fs::read_to_string(&ca).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let verified = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(&ca)
        .arg(server.dir().join("server.crt"))
        .output()
        .unwrap();
    assert!(verified.status.success(), "{verified:?}");
    assert!(RedisServer::start().unwrap().tls_url().is_none());
    let (pid, dir) = (server.pid().unwrap(), server.dir().to_path_buf());
    drop(server);
    assert!(!process_exists(pid), "redis-server {pid} still running");
    assert!(!dir.exists(), "{} still exists", dir.display());
}

#[test]
fn redis_can_be_killed_and_restarted_on_its_port() {
    let mut server = RedisServer::start().unwrap();
    let port = server.port();
    server.kill();
    assert!(!server.is_running());
    assert!(
        server.command(&["PING"]).is_err(),
        "a killed server must not answer"
    );
    server.start_again().unwrap();
    assert_eq!(server.port(), port);
    assert_eq!(
        server.command(&["PING"]).unwrap(),
        Reply::Status("PONG".into())
    );
}

#[test]
fn cluster_reports_ok_on_every_node_then_leaves_nothing() {
    let mut cluster = RedisCluster::start().unwrap();
    let urls = cluster.urls();
    assert_eq!(urls.len(), 3);
    let mut gone = Vec::new();
    for node in cluster.nodes_mut() {
        assert_eq!(node.cluster_state(), "ok");
        assert!(node.port() <= 55_535, "cluster bus port would overflow");
        gone.push((node.pid().unwrap(), node.dir().to_path_buf()));
    }
    // Slots are spread: a key lands on some master and reads back through it.
    let slots = cluster.nodes_mut()[0]
        .command(&["CLUSTER", "SLOTS"])
        .unwrap();
    let Reply::Array(Some(ranges)) = slots else {
        panic!("CLUSTER SLOTS: {slots:?}")
    };
    assert_eq!(ranges.len(), 3, "three masters, three slot ranges");
    drop(cluster);
    for (pid, dir) in gone {
        assert!(!process_exists(pid), "cluster node {pid} still running");
        assert!(!dir.exists());
    }
}

#[test]
fn postgres_has_pg_stat_statements_then_leaves_nothing() {
    let server = PgServer::start().unwrap();
    assert!(server.url().starts_with("postgres://postgres@127.0.0.1:"));
    assert!(server.url().ends_with("/perfect21"));
    assert_eq!(server.psql("perfect21", "SELECT 1").unwrap(), "1");
    assert_eq!(
        server
            .psql("perfect21", "SHOW shared_preload_libraries")
            .unwrap(),
        "pg_stat_statements"
    );
    let calls = server
        .psql("perfect21", "SELECT count(*) >= 0 FROM pg_stat_statements")
        .unwrap();
    assert_eq!(calls, "t");
    let other = server.create_database("no_extension").unwrap();
    assert!(other.ends_with("/no_extension"));
    assert!(
        server
            .psql("no_extension", "SELECT * FROM pg_stat_statements")
            .is_err()
    );

    let (pid, dir) = (server.pid().unwrap(), server.dir().to_path_buf());
    assert!(!postgres_processes_in(&dir).is_empty());
    drop(server);
    assert!(!process_exists(pid), "postmaster {pid} still running");
    assert!(
        postgres_processes_in(&dir).is_empty(),
        "postgres processes left behind"
    );
    assert!(!dir.exists(), "{} still exists", dir.display());
}

#[test]
fn postgres_survives_a_crash_and_restart_on_its_port() {
    let mut server = PgServer::start().unwrap();
    server
        .psql(
            "perfect21",
            "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)",
        )
        .unwrap();
    let port = server.port();
    server.kill();
    assert!(!server.is_running());
    assert!(
        server.psql("perfect21", "SELECT 1").is_err(),
        "a killed server must not answer"
    );
    server.start_again().unwrap();
    assert_eq!(server.port(), port);
    assert_eq!(server.psql("perfect21", "SELECT v FROM kept").unwrap(), "7");
}

const ORPHAN_CHILD: &str = "PERFECT21_TESTKIT_ORPHAN_CHILD";

/// Run as a child of the test below: start a server, say where it is, and
/// wait to be killed (a harness killed by a signal runs no `Drop`).
fn orphan_child() {
    let server = RedisServer::start().unwrap();
    println!(
        "ORPHAN {} {}",
        server.pid().unwrap(),
        server.dir().display()
    );
    std::thread::sleep(std::time::Duration::from_secs(120));
    drop(server);
}

#[test]
fn servers_of_a_killed_owner_are_swept() {
    if std::env::var_os(ORPHAN_CHILD).is_some() {
        return orphan_child();
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "servers_of_a_killed_owner_are_swept",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ORPHAN_CHILD, "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let line = stdout
        .lines()
        .map_while(Result::ok)
        // The harness prints `test NAME ... ` before the test's own output.
        .find_map(|l| l.split_once("ORPHAN ").map(|(_, rest)| rest.to_string()))
        .expect("the child never reported its server");
    let mut parts = line.split_whitespace();
    let pid: u32 = parts.next().unwrap().parse().unwrap();
    let dir = PathBuf::from(parts.next().unwrap());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        process_exists(pid),
        "the orphaned server should outlive its owner until swept"
    );

    assert!(sweep_orphans() >= 1);
    assert!(
        !process_exists(pid),
        "orphaned redis-server {pid} still running after the sweep"
    );
    assert!(
        !dir.exists(),
        "{} still exists after the sweep",
        dir.display()
    );
}
