//! Redis as production sites run it: a master with a replica, found through a Sentinel
//! (cherrys' `is_sentinel = True`), failing over while requests come in. Real servers:
//! `redis-server` as master, as replica and as sentinel, and our probe server as separate
//! processes.
#![cfg(feature = "redis")]

mod servers;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use servers::http::session_get;
use servers::probe::{
    Process, increments_over, ours, probe_binary, root, spawn_trusting, write_config,
};
use servers::venv::venv_python;
use servers::{
    Server, Setup, Tls, certificates, redis_cli, redis_cli_with, redis_cluster, temp_dir,
};

const SERVICE: &str = "sessions-master";

/// A master, a replica of it, and a sentinel that knows both.
struct Deployment {
    master: Server,
    replica: Server,
    sentinel: Server,
}

impl Deployment {
    fn start(dir: &Path) -> Self {
        Self::start_with(dir, &Setup::default())
    }

    fn start_with(dir: &Path, setup: &Setup<'_>) -> Self {
        // redis-cli as a client of a server with `password`.
        let cli = |port: u16, password: Option<&str>, args: &[&str]| {
            let mut all = vec![];
            if let Some(password) = password {
                all.extend(["--no-auth-warning", "-a", password]);
            }
            all.extend(args);
            redis_cli_with(port, setup.tls.map(|t| t.ca.as_path()), &all)
        };
        let (master_dir, replica_dir) = (dir.join("master"), dir.join("replica"));
        std::fs::create_dir_all(&master_dir).unwrap();
        std::fs::create_dir_all(&replica_dir).unwrap();
        let master = Server::redis_master_with(&master_dir, setup);
        let replica = Server::redis_replica_with(&replica_dir, master.port, setup);
        wait_until("the replica is in sync", || {
            cli(replica.port, setup.password, &["INFO", "replication"])
                .contains("master_link_status:up")
        });
        // A sentinel learns the replicas from the master's INFO when it starts watching it.
        let sentinel = Server::redis_sentinel_with(dir, master.port, SERVICE, setup);
        let replica_address = format!("127.0.0.1:{}", replica.port);
        wait_until("the sentinel knows the replica", || {
            let replicas = cli(
                sentinel.port,
                setup.sentinel_password,
                &["SENTINEL", "replicas", SERVICE],
            );
            replicas.contains(&replica_address) && !replicas.contains("disconnected")
        });
        Self {
            master,
            replica,
            sentinel,
        }
    }

    /// A cherrys Sentinel config: host/port name the sentinel, not the master.
    fn config(&self, dir: &Path) -> std::path::PathBuf {
        write_config(
            dir,
            &format!(
                "tools.sessions.storage_class = cherrys.RedisSession\n\
                 tools.sessions.is_sentinel = True\n\
                 tools.sessions.host = \"127.0.0.1\"\n\
                 tools.sessions.port = {}\n\
                 tools.sessions.sentinel_service = \"{SERVICE}\"\n\
                 tools.sessions.prefix = \"session:\"\n",
                self.sentinel.port
            ),
        )
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sessions through the sentinel, then `SENTINEL FAILOVER` while 16 clients increment one
/// session on two processes: requests during the switch may fail (503), but every
/// increment answered 200 is kept, and the processes go on with the new master without a
/// restart.
#[test]
fn sessions_follow_a_sentinel_failover_under_load_and_keep_every_answered_update() {
    let dir = temp_dir("sentinel-failover");
    let deployment = Deployment::start(&dir);
    let conf = deployment.config(&dir);
    let binary = probe_binary();
    let (_a, a) = ours(&binary, &conf);
    let (_b, b) = ours(&binary, &conf);

    let (status, id, _) = session_get(a, "/set?key=other&value=x", None);
    assert_eq!(status, 200);
    assert_eq!(session_get(b, "/get?key=other", Some(&id)).2, "x");
    // Written on the master the sentinel names, and already on its replica: the response
    // came after the replica confirmed the write.
    let key = format!("session:{id}");
    assert_eq!(redis_cli(deployment.master.port, &["EXISTS", &key]), "1");
    assert_eq!(redis_cli(deployment.replica.port, &["EXISTS", &key]), "1");

    let stop = Arc::new(AtomicBool::new(false));
    let switched = Arc::new(AtomicBool::new(false));
    // (status, body, whether the request started after the switch was complete)
    let results = Arc::new(Mutex::new(Vec::<(u16, String, bool)>::new()));
    let clients: Vec<_> = (0..16)
        .map(|i| {
            let (stop, switched, results, id) =
                (stop.clone(), switched.clone(), results.clone(), id.clone());
            let port = [a, b][i % 2];
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let after = switched.load(Ordering::SeqCst);
                    let (status, _, body) = session_get(port, "/slow_incr?key=c&ms=2", Some(&id));
                    results.lock().unwrap().push((status, body, after));
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(1500));
    let before = results.lock().unwrap().len();
    assert!(before > 0, "no request finished before the failover");
    assert_eq!(
        redis_cli(deployment.sentinel.port, &["SENTINEL", "FAILOVER", SERVICE]),
        "OK"
    );
    let new_master = deployment.replica.port.to_string();
    wait_until("the sentinel names the replica as master", || {
        redis_cli(
            deployment.sentinel.port,
            &["SENTINEL", "get-master-addr-by-name", SERVICE],
        )
        .ends_with(&new_master)
    });
    wait_until("the old master is a replica", || {
        redis_cli(deployment.master.port, &["ROLE"]).starts_with("slave")
    });
    switched.store(true, Ordering::SeqCst);
    wait_until("20 increments succeed after the switch", || {
        let results = results.lock().unwrap();
        results
            .iter()
            .filter(|(s, _, after)| *s == 200 && *after)
            .count()
            >= 20
    });
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }

    let results = results.lock().unwrap();
    let statuses: BTreeMap<u16, usize> = results.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r.0).or_default() += 1;
        m
    });
    assert!(
        statuses.keys().all(|s| *s == 200 || *s == 503),
        "only 200 and 503: {statuses:?}"
    );
    // Each answered increment read a value no other answered increment read: had an
    // answered write been lost, a later one would have read the same value again.
    let mut read = BTreeMap::new();
    for (status, body, _) in results.iter().filter(|r| r.0 == 200) {
        let (from, to) = body.split_once("->").expect("n->n+1");
        let (from, to): (u64, u64) = (from.parse().unwrap(), to.parse().unwrap());
        assert_eq!(to, from + 1);
        assert!(
            read.insert(from, status).is_none(),
            "two answered increments both read {from}: an update was lost"
        );
    }
    let answered = read.len() as u64;
    let highest = read.keys().next_back().map_or(0, |n| n + 1);
    let (status, _, body) = session_get(a, "/get?key=c", Some(&id));
    assert_eq!(status, 200);
    let stored: u64 = body.parse().unwrap();
    // Every answered increment is in the count; a 503 may or may not be (its write may
    // have reached the replica after the wait gave up), never more than once.
    assert!(
        stored >= highest && stored >= answered && stored <= results.len() as u64,
        "stored {stored}, {answered} answered (highest {highest}), {} requests: {statuses:?}",
        results.len()
    );
    assert_eq!(redis_cli(deployment.replica.port, &["EXISTS", &key]), "1");
}

/// Through a sentinel a write waits until the replica has it, so a write that only the
/// master holds (the replica is down, or was just promoted away from it) fails the request
/// instead of being answered and then lost in a failover; once the replica is back,
/// sessions work again.
#[test]
fn a_write_no_replica_confirmed_is_a_503_not_a_200() {
    let dir = temp_dir("sentinel-no-replica");
    let mut deployment = Deployment::start(&dir);
    let conf = deployment.config(&dir);
    let (_us, us) = ours(&probe_binary(), &conf);
    let (status, id, _) = session_get(us, "/set?key=k&value=before", None);
    assert_eq!(status, 200);

    deployment.replica.stop();
    let (status, _, _) = session_get(us, "/set?key=k&value=unconfirmed", Some(&id));
    assert_eq!(
        status, 503,
        "a write no replica has is not answered as saved"
    );
    let (status, _, _) = session_get(us, "/set?key=fresh&value=1", None);
    assert_eq!(status, 503);

    deployment.replica.restart();
    wait_until("the replica is in sync again", || {
        redis_cli(deployment.replica.port, &["INFO", "replication"])
            .contains("master_link_status:up")
    });
    let (status, kept, _) = session_get(us, "/set?key=k&value=after", Some(&id));
    assert_eq!((status, kept.as_str()), (200, id.as_str()));
    assert_eq!(session_get(us, "/get?key=k", Some(&id)).2, "after");
}

/// The write that ends a request goes with its `WAIT` in one pipeline, by the script's
/// hash: a master that lost its scripts (restarted, or a replica promoted since they were
/// loaded) answers `NOSCRIPT`, and the script is loaded and run, so the session is saved
/// and its lock released all the same.
#[test]
fn a_release_script_the_master_lost_is_loaded_again() {
    let dir = temp_dir("sentinel-noscript");
    let deployment = Deployment::start(&dir);
    let conf = deployment.config(&dir);
    let (_us, us) = ours(&probe_binary(), &conf);
    let (status, id, _) = session_get(us, "/set?key=k&value=kept", None);
    assert_eq!(status, 200);

    for port in [deployment.master.port, deployment.replica.port] {
        assert_eq!(redis_cli(port, &["SCRIPT", "FLUSH"]).trim(), "OK");
    }
    let data_key = format!("session:{id}");
    // When the session expires, in Unix milliseconds (not how long it has left, which
    // shrinks while the test waits).
    let expiry = || -> i64 {
        let ms = redis_cli(deployment.master.port, &["PEXPIRETIME", &data_key]);
        ms.trim().parse().unwrap()
    };
    let before = expiry();
    std::thread::sleep(Duration::from_millis(100));
    // A read: after the response, its expiry is written and its lock released by the
    // script, in the pipeline with the `WAIT`.
    let (status, kept, body) = session_get(us, "/get?key=k", Some(&id));
    assert_eq!(
        (status, kept.as_str(), body.as_str()),
        (200, id.as_str(), "kept")
    );
    wait_until("the lock is released", || {
        let keys = redis_cli(deployment.master.port, &["KEYS", &format!("*{id}*")]);
        keys.trim() == data_key
    });
    assert!(expiry() > before, "the read extended the session's expiry");
    let (status, _, _) = session_get(us, "/set?key=k&value=after", Some(&id));
    assert_eq!(status, 200);
    assert_eq!(session_get(us, "/get?key=k", Some(&id)).2, "after");
}

/// `is_sentinel` without the master's name cannot work: the startup says so, at the line.
#[test]
fn a_sentinel_without_sentinel_service_is_a_startup_error() {
    let dir = temp_dir("sentinel-no-service");
    let conf = write_config(
        &dir,
        "tools.sessions.storage_class = cherrys.RedisSession\n\
         tools.sessions.is_sentinel = True\n\
         tools.sessions.port = 26379\n",
    );
    let err = actix_cherrypy::middleware::CherryPySessions::from_file(&conf).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("sentinel_service"), "{text}");
    assert!(text.contains("redis-sentinel-service"), "{text}");
}

/// `cluster = True` (this crate's extension) with `host`/`port` naming one node of a
/// three-node Redis Cluster: sessions spread over the nodes, a session's data and lock keys
/// share a slot (`prefix{id}`, `lock_{id}`), and two processes keep every update of one
/// session (the lock and the data go together in one script and pipeline, which a cluster
/// runs only on keys of one slot).
#[test]
fn sessions_in_a_redis_cluster_keep_their_keys_on_one_slot_and_every_update() {
    let dir = temp_dir("redis-cluster");
    let nodes = redis_cluster(&dir);
    let conf = write_config(
        &dir,
        &format!(
            "tools.sessions.storage_class = cherrys.RedisSession\n\
             tools.sessions.cluster = True\n\
             tools.sessions.host = \"127.0.0.1\"\n\
             tools.sessions.port = {}\n\
             tools.sessions.prefix = \"session:\"\n",
            nodes[0].port
        ),
    );
    let binary = probe_binary();
    let (_a, a) = ours(&binary, &conf);
    let (_b, b) = ours(&binary, &conf);

    let ids: Vec<String> = (0..12)
        .map(|n| {
            let (status, id, _) = session_get([a, b][n % 2], "/set?key=k&value=v", None);
            assert_eq!(status, 200);
            assert_eq!(session_get([b, a][n % 2], "/get?key=k", Some(&id)).2, "v");
            id
        })
        .collect();
    for id in &ids {
        let key = format!("session:{{{id}}}");
        let slot = redis_cli(nodes[0].port, &["CLUSTER", "KEYSLOT", &key]);
        assert_eq!(
            redis_cli(
                nodes[0].port,
                &["CLUSTER", "KEYSLOT", &format!("lock_{{{id}}}")]
            ),
            slot
        );
        let on: Vec<_> = nodes
            .iter()
            .filter(|n| redis_cli(n.port, &["EXISTS", &key]) == "1")
            .collect();
        assert_eq!(on.len(), 1, "session {id} is on one node");
    }
    let used = nodes
        .iter()
        .filter(|n| redis_cli(n.port, &["DBSIZE"]) != "0")
        .count();
    assert!(used >= 2, "12 sessions all on one node of three");

    increments_over(&[a, b]);
}

/// A cluster has no sentinel and only database 0: either asked for with `cluster = True`
/// is a startup error at the `cluster` line.
#[test]
fn a_cluster_with_a_sentinel_or_another_database_is_a_startup_error() {
    for (name, extra) in [
        (
            "sentinel",
            "tools.sessions.is_sentinel = True\ntools.sessions.sentinel_service = \"m\"\n",
        ),
        ("db", "tools.sessions.db = 2\n"),
    ] {
        let dir = temp_dir(&format!("cluster-and-{name}"));
        let conf = write_config(
            &dir,
            &format!(
                "tools.sessions.storage_class = cherrys.RedisSession\n\
                 tools.sessions.cluster = True\n{extra}"
            ),
        );
        let err = actix_cherrypy::middleware::CherryPySessions::from_file(&conf).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("redis-cluster"), "{name}: {text}");
    }
}

/// cherrys' Sentinel mode over TLS (`ssl = True`, which cherrys needs with redis-py 8.2),
/// one unchanged config for CherryPy with cherrys and for us: a session set on either side
/// is read on the other, both verifying the certificates of the sentinel and of the master
/// it names. With `tls_skip_verify = True` certificates are not checked (cherrys then
/// turns redis-py's check off); without it, a server we cannot verify fails the request
/// (a 500: a configuration to fix, not an outage).
#[test]
fn cherrypy_and_this_crate_share_sessions_through_a_sentinel_over_tls() {
    let dir = temp_dir("sentinel-tls");
    let (ca, cert, key) = certificates(&dir);
    let tls = Tls { cert, key, ca };
    let deployment = Deployment::start_with(
        &dir,
        &Setup {
            tls: Some(&tls),
            ..Setup::default()
        },
    );
    let sentinel_config = |extra: &str| {
        format!(
            "[/]\ntools.sessions.on = True\n\
             tools.sessions.storage_class = cherrys.RedisSession\n\
             tools.sessions.is_sentinel = True\n\
             tools.sessions.host = \"127.0.0.1\"\n\
             tools.sessions.port = {}\n\
             tools.sessions.sentinel_service = \"{SERVICE}\"\n\
             tools.sessions.ssl = True\n{extra}",
            deployment.sentinel.port
        )
    };
    let conf = dir.join("site.conf");
    std::fs::write(&conf, sentinel_config("")).unwrap();
    let start_ours = |conf: &Path, ca: Option<&Path>| -> (Process, u16) {
        let mut command = std::process::Command::new(probe_binary());
        command
            .arg(conf)
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR");
        spawn_trusting(command, ca)
    };
    let (_us, us) = start_ours(&conf, Some(&tls.ca));
    let mut cherrypy = std::process::Command::new(venv_python());
    cherrypy
        .arg(root().join("compat/http/probe_app.py"))
        .arg(&conf);
    let (_cp, cp) = spawn_trusting(cherrypy, Some(&tls.ca));

    let (status, id, _) = session_get(cp, "/set?key=k&value=from+cherrypy", None);
    assert_eq!(status, 200);
    let (status, kept, body) = session_get(us, "/get?key=k", Some(&id));
    assert_eq!(
        (status, kept.as_str(), body.as_str()),
        (200, id.as_str(), "from cherrypy")
    );
    let (status, ours_id, _) = session_get(us, "/set?key=k&value=from+us", None);
    assert_eq!(status, 200);
    let (_, kept, body) = session_get(cp, "/get?key=k", Some(&ours_id));
    assert_eq!(
        (kept.as_str(), body.as_str()),
        (ours_id.as_str(), "from us")
    );

    // Not trusting the CA: refused, unless told to skip the check.
    let (_untrusting, untrusting) = start_ours(&conf, None);
    assert_eq!(session_get(untrusting, "/set?key=k&value=v", None).0, 500);
    let skipping = dir.join("skip.conf");
    std::fs::write(
        &skipping,
        sentinel_config("tools.sessions.tls_skip_verify = True\n"),
    )
    .unwrap();
    let (_skipping, skipping) = start_ours(&skipping, None);
    let (status, id, _) = session_get(skipping, "/set?key=k&value=unverified", None);
    assert_eq!(status, 200);
    assert_eq!(session_get(us, "/get?key=k", Some(&id)).2, "unverified");

    // redis-rs would read `#insecure` as "skip the check"; redis-py does not, nor do we.
    let direct = dir.join("direct.conf");
    std::fs::write(
        &direct,
        format!(
            "[/]\ntools.sessions.on = True\n\
             tools.sessions.storage_class = cherrys.RedisSession\n\
             tools.sessions.url = \"rediss://127.0.0.1:{}/0#insecure\"\n",
            deployment.master.port
        ),
    )
    .unwrap();
    let (_direct, direct) = start_ours(&direct, None);
    assert_eq!(session_get(direct, "/set?key=k&value=v", None).0, 500);
}

/// cherrys' passwords in Sentinel mode: `password` for the master, `sentinel_pass` for the
/// sentinel, each server refusing clients without its own.
#[test]
fn sentinel_pass_and_password_reach_the_sentinel_and_the_master() {
    let dir = temp_dir("sentinel-auth");
    let deployment = Deployment::start_with(
        &dir,
        &Setup {
            password: Some("master-secret"),
            sentinel_password: Some("sentinel-secret"),
            ..Setup::default()
        },
    );
    let conf = |name: &str, passwords: &str| {
        let dir = dir.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        write_config(
            &dir,
            &format!(
                "tools.sessions.storage_class = cherrys.RedisSession\n\
                 tools.sessions.is_sentinel = True\n\
                 tools.sessions.port = {}\n\
                 tools.sessions.sentinel_service = \"{SERVICE}\"\n{passwords}",
                deployment.sentinel.port
            ),
        )
    };
    let (master, sentinel) = (
        "tools.sessions.password = \"master-secret\"\n",
        "tools.sessions.sentinel_pass = \"sentinel-secret\"\n",
    );
    let binary = probe_binary();
    let (_us, us) = ours(&binary, &conf("both", &format!("{master}{sentinel}")));
    let (status, id, _) = session_get(us, "/set?key=k&value=v", None);
    assert_eq!(status, 200);
    assert_eq!(session_get(us, "/get?key=k", Some(&id)).2, "v");

    // Either password missing: the sentinel, or the master, refuses us, which is a
    // configuration to fix (500), not an outage (503).
    for (name, only) in [("master-only", master), ("sentinel-only", sentinel)] {
        let (_other, other) = ours(&binary, &conf(name, only));
        let (status, _, _) = session_get(other, "/set?key=k&value=v", None);
        assert_eq!(status, 500, "{name}");
    }
}
