//! Session locks under concurrency: no update is lost, whatever the locking mode and the
//! store, and a request of another process is not starved of a session's lock. Our probe
//! server runs as separate processes, memcached and Redis as real servers.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::servers::http::session_get;
use crate::servers::probe::{Process, ours, probe_binary};
use crate::servers::{Server, temp_dir};

/// A store for the probe servers: its config lines, and the server process behind it.
struct Store {
    lines: String,
    _server: Option<Server>,
}

fn store(kind: &str, dir: &Path) -> Store {
    match kind {
        "ram" => Store {
            lines: String::new(),
            _server: None,
        },
        "file" => {
            let sessions = dir.join("sessions");
            std::fs::create_dir_all(&sessions).unwrap();
            Store {
                lines: format!(
                    "tools.sessions.storage_type = \"file\"\ntools.sessions.storage_path = {:?}\n",
                    sessions.display().to_string()
                ),
                _server: None,
            }
        }
        "redis" => {
            let server = Server::redis(dir);
            Store {
                lines: format!(
                    "tools.sessions.storage_type = \"redis\"\ntools.sessions.url = \"redis://{}/0\"\n",
                    server.address()
                ),
                _server: Some(server),
            }
        }
        "memcached" => {
            let server = Server::memcached();
            Store {
                lines: format!(
                    "tools.sessions.storage_type = \"memcached\"\ntools.sessions.servers = [{:?}]\n",
                    server.address()
                ),
                _server: Some(server),
            }
        }
        other => panic!("no store {other}"),
    }
}

/// `processes` probe servers sharing `kind`'s store, with locking `locking`; the config at
/// `/implicit/` (under the probe's `/admin` mount) always locks implicitly.
fn probes(kind: &str, locking: &str, processes: usize) -> (Store, Vec<(Process, u16)>) {
    let dir = temp_dir(&format!("locking-{kind}"));
    let store = store(kind, &dir);
    let conf = dir.join("site.conf");
    std::fs::write(
        &conf,
        format!(
            "[/]\ntools.sessions.on = True\ntools.sessions.locking = {locking:?}\n{}\n[/admin]\ntools.sessions.locking = \"implicit\"\n",
            store.lines
        ),
    )
    .unwrap();
    let binary = probe_binary();
    let servers = (0..processes).map(|_| ours(&binary, &conf)).collect();
    (store, servers)
}

/// Sends `total` requests, `clients` at a time, to `path(i)` on `ports[i % len]` in one
/// session; returns the session id and the bodies of the answers, which must all be 200.
fn burst(
    ports: &[u16],
    total: usize,
    clients: usize,
    path: impl Fn(usize) -> String + Send + Sync + 'static,
) -> (String, Vec<String>) {
    let (status, id, _) = session_get(ports[0], "/set?key=other&value=x", None);
    assert_eq!((status, id.len()), (200, 40));
    let next = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let path = Arc::new(path);
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (next, bodies, id, ports, path) = (
                next.clone(),
                bodies.clone(),
                id.clone(),
                ports.to_vec(),
                path.clone(),
            );
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= total {
                        break;
                    }
                    let port = ports[i % ports.len()];
                    let (status, _, body) = session_get(port, &path(i), Some(&id));
                    assert_eq!(status, 200, "request {i}: {}: {body}", path(i));
                    bodies.lock().unwrap().push(body);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let bodies = std::mem::take(&mut *bodies.lock().unwrap());
    (id, bodies)
}

/// 20 concurrent requests that each `acquire_lock()`, increment and `release_lock()`.
fn explicit_increments_end_at_20(kind: &str) {
    let (_store, servers) = probes(kind, "explicit", 1);
    let port = servers[0].1;
    let (id, _) = burst(&[port], 20, 20, |_| {
        "/lock_explicit?key=n&ms=1&after=20".into()
    });
    assert_eq!(session_get(port, "/get?key=n", Some(&id)).2, "20", "{kind}");
}

#[test]
fn explicit_release_loses_no_update_ram() {
    explicit_increments_end_at_20("ram");
}

#[test]
fn explicit_release_loses_no_update_redis() {
    explicit_increments_end_at_20("redis");
}

#[test]
fn explicit_release_loses_no_update_memcached() {
    explicit_increments_end_at_20("memcached");
}

/// A login (`regenerate()`) on a site with browser-session cookies: the new cookie is a
/// browser-session cookie too, as with CherryPy's `cherrypy.session.regenerate()`. The
/// tool function's variant keeps its persistent cookie under its own name.
#[test]
fn regenerate_keeps_a_browser_session_cookie() {
    use actix_cherrypy::middleware::CherryPySessions;
    use actix_cherrypy::session::Session;
    use actix_web::{HttpResponse, web};

    let dir = temp_dir("regenerate-cookie");
    let conf = dir.join("site.conf");
    std::fs::write(
        &conf,
        "[/]\ntools.sessions.on = True\ntools.sessions.persistent = False\ntools.sessions.httponly = True\n",
    )
    .unwrap();
    let sessions = CherryPySessions::from_file(&conf).unwrap();
    let port = crate::servers::http::serve(
        1,
        move || sessions.clone(),
        |cfg| {
            cfg.route(
                "/login",
                web::get().to(|s: Session| async move {
                    s.insert("user", "ann").unwrap();
                    HttpResponse::Ok().body(s.regenerate().to_string())
                }),
            )
            .route(
                "/tool",
                web::get().to(|s: Session| async move {
                    HttpResponse::Ok().body(s.regenerate_with_persistent_cookie().to_string())
                }),
            );
        },
    );
    let login = crate::servers::http::get(port, "/login", None);
    assert_eq!(
        login.set_cookie(),
        format!("session_id={}; HttpOnly; Path=/", login.body)
    );
    let tool = crate::servers::http::get(port, "/tool", None);
    let cookie = tool.set_cookie();
    assert!(
        cookie.contains("; expires=") && cookie.contains("; Max-Age=3600"),
        "{cookie}"
    );
}
