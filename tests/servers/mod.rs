//! The servers the tests talk to, each on a free loopback port: real `redis-server` and
//! `memcached` processes, stopped by process id when dropped (also when a test panics), and
//! (in `http` and `probe`) ours and CherryPy's, with the HTTP client for them.

#![allow(dead_code)] // each test file uses part of it

pub(crate) mod http;
pub(crate) mod probe;
#[path = "../support/venv.rs"]
pub(crate) mod venv;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process the test started.
pub(crate) struct Server {
    child: Option<Child>,
    program: &'static str,
    args: Vec<String>,
    /// Environment variables the process gets besides the test's own.
    env: Vec<(&'static str, String)>,
    pub(crate) port: u16,
}

impl Server {
    /// `memcached` on 127.0.0.1 (TCP only).
    pub(crate) fn memcached() -> Self {
        Self::memcached_with("")
    }

    /// [`Server::memcached`] with `env` (a moved clock: [`probe::FakeClock::env`]).
    pub(crate) fn memcached_in(env: Vec<(&'static str, String)>) -> Self {
        let mut server = Self::memcached_unstarted(free_port(), "");
        server.env = env;
        server.restart();
        server
    }

    /// [`Server::memcached`] with more command-line arguments (`"-I 64m -m 256"`).
    pub(crate) fn memcached_with(extra: &str) -> Self {
        Self::memcached_on(free_port(), extra)
    }

    /// [`Server::memcached_with`] on `port`: a server that was not there when a process
    /// configured for it started.
    pub(crate) fn memcached_on(port: u16, extra: &str) -> Self {
        let mut server = Self::memcached_unstarted(port, extra);
        server.restart();
        server
    }

    /// memcached's command line on `port` with `extra` arguments, not started yet.
    fn memcached_unstarted(port: u16, extra: &str) -> Self {
        let user = if running_as_root() { "-u root" } else { "" };
        let args = format!("-l 127.0.0.1 -p {port} -U 0 -m 64 {user} {extra}");
        Self {
            child: None,
            program: "memcached",
            args: args.split_whitespace().map(str::to_owned).collect(),
            env: Vec::new(),
            port,
        }
    }

    /// `redis-server` on 127.0.0.1, persisting to `dir` (so a restart keeps the data).
    pub(crate) fn redis(dir: &std::path::Path) -> Self {
        let port = free_port();
        let args = vec![
            "--bind".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--dir".into(),
            dir.display().to_string(),
            "--save".into(),
            "".into(),
            "--appendonly".into(),
            "yes".into(),
            "--appendfsync".into(),
            "always".into(),
            "--daemonize".into(),
            "no".into(),
        ];
        Self::start("redis-server", args, port)
    }

    /// `redis-server` on 127.0.0.1 speaking TLS only, with the certificate `cert` and key
    /// `key` (PEM files), clients not asked for certificates.
    pub(crate) fn redis_tls(
        dir: &std::path::Path,
        cert: &std::path::Path,
        key: &std::path::Path,
    ) -> Self {
        Self::redis_tls_speaking(dir, cert, key, "TLSv1.2 TLSv1.3")
    }

    /// [`Server::redis_tls`] accepting only the TLS versions in `protocols` (redis.conf's
    /// `tls-protocols`, e.g. `"TLSv1.2"`).
    pub(crate) fn redis_tls_speaking(
        dir: &std::path::Path,
        cert: &std::path::Path,
        key: &std::path::Path,
        protocols: &str,
    ) -> Self {
        let port = free_port();
        let path = |p: &std::path::Path| p.display().to_string();
        let args = vec![
            "--tls-protocols".into(),
            protocols.into(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--port".into(),
            "0".into(),
            "--tls-port".into(),
            port.to_string(),
            "--tls-cert-file".into(),
            path(cert),
            "--tls-key-file".into(),
            path(key),
            "--tls-auth-clients".into(),
            "no".into(),
            "--dir".into(),
            path(dir),
            "--save".into(),
            "".into(),
            "--daemonize".into(),
            "no".into(),
        ];
        Self::start("redis-server", args, port)
    }

    /// `redis-server` on 127.0.0.1 replicating the one on `master_port`, in memory only.
    pub(crate) fn redis_replica(dir: &Path, master_port: u16) -> Self {
        Self::redis_replica_with(dir, master_port, &Setup::default())
    }

    /// [`Server::redis_replica`] set up as `setup` says (to its clients and to its master).
    pub(crate) fn redis_replica_with(dir: &Path, master_port: u16, setup: &Setup<'_>) -> Self {
        let port = free_port();
        let auth = setup.password.map_or(String::new(), |p| {
            format!("--requirepass {p} --masterauth {p}")
        });
        let args = format!(
            "--bind 127.0.0.1 {} {auth} --dir {} --save '' --replicaof 127.0.0.1 {master_port} --daemonize no",
            listen_args(port, setup.tls),
            dir.display()
        );
        Self::start("redis-server", split_args(&args), port)
    }

    /// A master for [`Server::redis_replica_with`]: `redis-server` on 127.0.0.1, in memory
    /// only, set up as `setup` says.
    pub(crate) fn redis_master_with(dir: &Path, setup: &Setup<'_>) -> Self {
        let port = free_port();
        let auth = setup
            .password
            .map_or(String::new(), |p| format!("--requirepass {p}"));
        let args = format!(
            "--bind 127.0.0.1 {} {auth} --dir {} --save '' --daemonize no",
            listen_args(port, setup.tls),
            dir.display()
        );
        Self::start("redis-server", split_args(&args), port)
    }

    /// A Redis Sentinel on 127.0.0.1 watching the master on `master_port` under the name
    /// `service`, alone (a quorum of one). Its config file (which a sentinel rewrites) is
    /// written in `dir`.
    pub(crate) fn redis_sentinel(dir: &Path, master_port: u16, service: &str) -> Self {
        Self::redis_sentinel_with(dir, master_port, service, &Setup::default())
    }

    /// [`Server::redis_sentinel`] set up as `setup` says (to its clients and to the servers
    /// it watches).
    pub(crate) fn redis_sentinel_with(
        dir: &Path,
        master_port: u16,
        service: &str,
        setup: &Setup<'_>,
    ) -> Self {
        let port = free_port();
        let conf = dir.join(format!("sentinel-{port}.conf"));
        let mut auth = String::new();
        if let Some(password) = setup.password {
            auth += &format!("sentinel auth-pass {service} {password}\n");
        }
        if let Some(password) = setup.sentinel_password {
            auth += &format!("requirepass {password}\n");
        }
        std::fs::write(
            &conf,
            format!(
                "bind 127.0.0.1\n{}\ndir {}\n\
                 sentinel monitor {service} 127.0.0.1 {master_port} 1\n\
                 sentinel down-after-milliseconds {service} 2000\n\
                 sentinel failover-timeout {service} 10000\n{auth}",
                listen(port, setup.tls)
                    .into_iter()
                    .map(|(name, value)| format!("{name} {value}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
                dir.display()
            ),
        )
        .expect("sentinel.conf");
        let args = vec![
            conf.display().to_string(),
            "--sentinel".into(),
            "--daemonize".into(),
            "no".into(),
        ];
        Self::start("redis-server", args, port)
    }

    /// `redis-server` on 127.0.0.1 as a Redis Cluster node, not yet in a cluster (see
    /// [`redis_cluster`]).
    pub(crate) fn redis_cluster_node(dir: &std::path::Path) -> Self {
        let port = free_port();
        let args = format!(
            "--bind 127.0.0.1 --port {port} --dir {} --save '' --cluster-enabled yes --cluster-config-file nodes-{port}.conf --cluster-node-timeout 5000 --daemonize no",
            dir.display()
        );
        Self::start("redis-server", split_args(&args), port)
    }

    fn start(program: &'static str, args: Vec<String>, port: u16) -> Self {
        let mut server = Self {
            child: None,
            program,
            args,
            env: Vec::new(),
            port,
        };
        server.restart();
        server
    }

    /// Starts the process again (after [`Server::stop`]) on the same port.
    pub(crate) fn restart(&mut self) {
        let child = Command::new(self.program)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "{} cannot be started ({e}): install it (Debian: apt-get install redis-server memcached); .ci/run does",
                    self.program
                )
            });
        self.child = Some(child);
        wait_for_port(self.port);
    }

    /// Kills the process (SIGKILL) and waits for it.
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `host:port`.
    pub(crate) fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How the servers of a Redis deployment are set up beyond the defaults.
#[derive(Default)]
pub(crate) struct Setup<'a> {
    /// TLS only, to clients and between the servers.
    pub(crate) tls: Option<&'a Tls>,
    /// The password of the master and its replicas (`requirepass`; a replica also uses it
    /// with its master, a sentinel with both).
    pub(crate) password: Option<&'a str>,
    /// The sentinel's own password.
    pub(crate) sentinel_password: Option<&'a str>,
}

/// A certificate and its key (PEM files) for a Redis server, and the CA it trusts for the
/// servers it connects to (a replica to its master, a sentinel to both).
pub(crate) struct Tls {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
    pub(crate) ca: PathBuf,
}

/// The Redis settings (name, value) to listen on `port`: plain TCP, or with `tls` TLS only,
/// replication included.
fn listen(port: u16, tls: Option<&Tls>) -> Vec<(&'static str, String)> {
    let Some(tls) = tls else {
        return vec![("port", port.to_string())];
    };
    let path = |p: &PathBuf| p.display().to_string();
    vec![
        ("port", "0".to_owned()),
        ("tls-port", port.to_string()),
        ("tls-cert-file", path(&tls.cert)),
        ("tls-key-file", path(&tls.key)),
        ("tls-ca-cert-file", path(&tls.ca)),
        ("tls-auth-clients", "no".to_owned()),
        ("tls-replication", "yes".to_owned()),
    ]
}

/// [`listen`] as command-line arguments.
fn listen_args(port: u16, tls: Option<&Tls>) -> String {
    let args: Vec<String> = listen(port, tls)
        .into_iter()
        .map(|(name, value)| format!("--{name} {value}"))
        .collect();
    args.join(" ")
}

/// Arguments split at spaces; `''` is an empty one.
fn split_args(args: &str) -> Vec<String> {
    args.split_whitespace()
        .map(|a| {
            if a == "''" {
                String::new()
            } else {
                a.to_owned()
            }
        })
        .collect()
}

/// The rest of the first line of memcached's answer to `command` (a raw protocol command,
/// `\r\n` included) that starts with `prefix`.
#[allow(dead_code, reason = "not every test binary talks to memcached")]
pub(crate) fn memcached_line(address: &str, command: &str, prefix: &str) -> String {
    use std::io::{BufRead, Write};
    let stream = std::net::TcpStream::connect(address).unwrap();
    let mut conn = std::io::BufReader::new(stream);
    conn.get_mut().write_all(command.as_bytes()).unwrap();
    let mut line = String::new();
    loop {
        line.clear();
        conn.read_line(&mut line).unwrap();
        if let Some(rest) = line.strip_prefix(prefix) {
            return rest.trim_end().to_owned();
        }
        assert!(
            line != "END\r\n" && line != "EN\r\n" && !line.is_empty(),
            "memcached gave no {prefix:?} to {command:?}"
        );
    }
}

/// `redis-cli -p port args…`'s output, trimmed.
pub(crate) fn redis_cli(port: u16, args: &[&str]) -> String {
    redis_cli_with(port, None, args)
}

/// How many times the Redis server on `port` ran `command` (lowercase, as `INFO
/// commandstats` names it: `getrange`, `evalsha`), counting the commands scripts run, since
/// it started or its statistics were reset.
#[allow(dead_code, reason = "not every test binary counts commands")]
pub(crate) fn redis_command_calls(port: u16, command: &str) -> u64 {
    let prefix = format!("cmdstat_{command}:calls=");
    redis_cli(port, &["INFO", "commandstats"])
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
}

/// [`redis_cli`]; with `ca`, over TLS, trusting that CA.
pub(crate) fn redis_cli_with(port: u16, ca: Option<&Path>, args: &[&str]) -> String {
    let mut cli = Command::new("redis-cli");
    cli.args(["-h", "127.0.0.1", "-p", &port.to_string()]);
    if let Some(ca) = ca {
        cli.arg("--tls").arg("--cacert").arg(ca);
    }
    let out = cli.args(args).output().expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Three cluster nodes made one Redis Cluster (masters only, the slots split between
/// them), ready for commands.
pub(crate) fn redis_cluster(dir: &std::path::Path) -> Vec<Server> {
    let nodes: Vec<Server> = (0..3).map(|_| Server::redis_cluster_node(dir)).collect();
    let addresses: Vec<String> = nodes.iter().map(Server::address).collect();
    let status = Command::new("redis-cli")
        .args(["--cluster", "create"])
        .args(&addresses)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .stdout(Stdio::null())
        .status()
        .expect("redis-cli runs");
    assert!(status.success(), "redis-cli --cluster create failed");
    let deadline = Instant::now() + Duration::from_secs(20);
    for node in &nodes {
        while !redis_cli(node.port, &["CLUSTER", "INFO"]).contains("cluster_state:ok") {
            assert!(Instant::now() < deadline, "the cluster did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    nodes
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub(crate) fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh directory under the system's temp dir.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "actix-cherrypy-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A CA and a certificate for 127.0.0.1 signed by it, made with the `openssl` command:
/// `(ca.pem, server.pem, server.key)`.
pub(crate) fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("the openssl command runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=actix-cherrypy test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}
