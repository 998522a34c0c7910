//! Explicit locking without the lock: a request that changes the session without
//! `acquire_lock()` stores its change only if nobody changed the session meanwhile, and one
//! that only reads never writes its copy back. These sequences (a read while another
//! request increments under the lock, delete or purge then insert, regenerate then
//! `acquire_lock()`, a NaN in the session, a session expiring mid-request) each lost an
//! update or refused a request nobody raced. RAM store, real HTTP.

mod servers;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use actix_cherrypy::middleware::{CherryPySessions, from_cherrypy_config};
use actix_cherrypy::session::Session;
use actix_cherrypy::session_id::SessionId;
use actix_cherrypy::session_value::{SessionData, SessionValue};
use actix_cherrypy::store::{Record, SessionStore};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use servers::http;

#[derive(Deserialize)]
struct Q {
    ms: Option<u64>,
}

async fn get(s: Session) -> HttpResponse {
    HttpResponse::Ok().body(format!("{:?}", s.entries()))
}
async fn set0(s: Session) -> HttpResponse {
    s.insert("n", 0).unwrap();
    HttpResponse::Ok().finish()
}
async fn slow_read(s: Session, q: web::Query<Q>) -> HttpResponse {
    let n: Option<i64> = s.get("n").unwrap();
    actix_web::rt::time::sleep(Duration::from_millis(q.ms.unwrap_or(300))).await;
    HttpResponse::Ok().body(format!("{n:?}"))
}
async fn slow_read_fail(s: Session, q: web::Query<Q>) -> actix_web::Result<HttpResponse> {
    let _n: Option<i64> = s.get("n").unwrap();
    actix_web::rt::time::sleep(Duration::from_millis(q.ms.unwrap_or(300))).await;
    Err(actix_web::error::ErrorInternalServerError("handler failed"))
}
async fn incr_locked(s: Session) -> HttpResponse {
    s.acquire_lock().await.unwrap();
    let n: i64 = s.get("n").unwrap().unwrap_or(0);
    s.insert("n", n + 1).unwrap();
    HttpResponse::Ok().body(format!("{}", n + 1))
}
async fn incr_unlocked(s: Session) -> HttpResponse {
    let n: i64 = s.get("n").unwrap().unwrap_or(0);
    s.insert("n", n + 1).unwrap();
    HttpResponse::Ok().body(format!("{}", n + 1))
}
async fn delete_then_insert(s: Session) -> HttpResponse {
    s.delete();
    s.insert("flash", "bye").unwrap();
    HttpResponse::Ok().finish()
}
async fn purge_then_insert(s: Session) -> HttpResponse {
    s.purge();
    s.insert("flash", "bye").unwrap();
    HttpResponse::Ok().finish()
}
async fn insert_regen_lock(s: Session) -> HttpResponse {
    s.insert("a", 1).unwrap();
    s.regenerate();
    s.acquire_lock().await.unwrap();
    s.insert("b", 2).unwrap();
    HttpResponse::Ok().body(s.id().to_string())
}
async fn read_regen_lock(s: Session) -> HttpResponse {
    let _ = s.get::<i64>("n");
    s.regenerate();
    s.acquire_lock().await.unwrap();
    s.insert("b", 2).unwrap();
    HttpResponse::Ok().body(s.id().to_string())
}
async fn set_nan(s: Session) -> HttpResponse {
    s.acquire_lock().await.unwrap();
    s.insert_value("x", SessionValue::Float(f64::NAN)).unwrap();
    HttpResponse::Ok().finish()
}

async fn slow_read_delete(s: Session) -> HttpResponse {
    let _n: Option<i64> = s.get("n").unwrap();
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    s.delete();
    HttpResponse::Ok().finish()
}

async fn slow_incr_unlocked(s: Session) -> HttpResponse {
    let n: i64 = s.get("n").unwrap().unwrap_or(0);
    actix_web::rt::time::sleep(Duration::from_millis(700)).await;
    s.insert("n", n + 1).unwrap();
    HttpResponse::Ok().body(format!("{}", n + 1))
}

/// Under the lock: `regenerate()`, a change, `release_lock()`, the lock again, a change.
async fn regen_release_relock(s: Session) -> HttpResponse {
    s.acquire_lock().await.unwrap();
    let n: i64 = s.get("n").unwrap().unwrap_or(0);
    s.regenerate();
    s.insert("n", n + 1).unwrap();
    s.release_lock();
    s.acquire_lock().await.unwrap();
    s.insert("m", 1).unwrap();
    HttpResponse::Ok().body(s.id().to_string())
}

/// `regenerate()`, a change, then the lock, then another change.
async fn regen_insert_lock(s: Session) -> HttpResponse {
    s.regenerate();
    s.insert("a", 1).unwrap();
    s.acquire_lock().await.unwrap();
    s.insert("b", 2).unwrap();
    HttpResponse::Ok().body(s.id().to_string())
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/get", web::get().to(get))
        .route("/set0", web::get().to(set0))
        .route("/slow_read", web::get().to(slow_read))
        .route("/slow_read_fail", web::get().to(slow_read_fail))
        .route("/incr_locked", web::get().to(incr_locked))
        .route("/incr_unlocked", web::get().to(incr_unlocked))
        .route("/delete_then_insert", web::get().to(delete_then_insert))
        .route("/purge_then_insert", web::get().to(purge_then_insert))
        .route("/insert_regen_lock", web::get().to(insert_regen_lock))
        .route("/read_regen_lock", web::get().to(read_regen_lock))
        .route("/slow_read_delete", web::get().to(slow_read_delete))
        .route("/slow_incr_unlocked", web::get().to(slow_incr_unlocked))
        .route("/set_nan", web::get().to(set_nan))
        .route("/regen_release_relock", web::get().to(regen_release_relock))
        .route("/regen_insert_lock", web::get().to(regen_insert_lock));
}

fn config(name: &str, text: &str) -> PathBuf {
    let path = servers::temp_dir("explicit-locking").join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn serve_mw(mw: CherryPySessions) -> u16 {
    http::serve(
        2,
        move || mw.clone(),
        |cfg| {
            cfg.configure(routes);
        },
    )
}

const EXPLICIT: &str = "[/]\ntools.sessions.on = True\ntools.sessions.locking = 'explicit'\n";

fn cookie(id: &str) -> String {
    format!("session_id={id}")
}

/// A server with explicit locking and `extra` settings; a session stored with `n` = 0.
fn explicit(name: &str, extra: &str) -> (u16, String) {
    let conf = config(name, &format!("{EXPLICIT}{extra}"));
    let port = serve_mw(from_cherrypy_config(conf));
    let c = cookie(&http::get(port, "/set0", None).cookie_id());
    (port, c)
}

/// `path` runs on the session `c` while another request increments `n` under the lock; the
/// increment, answered 200, is what the session holds afterwards. Returns `path`'s status.
fn beside_a_locked_increment(port: u16, c: &str, path: &'static str) -> u16 {
    let mine = c.to_owned();
    let slow = std::thread::spawn(move || http::get(port, path, Some(&mine)).status);
    std::thread::sleep(Duration::from_millis(100));
    let incr = http::get(port, "/incr_locked", Some(c));
    assert_eq!((incr.status, incr.body.as_str()), (200, "1"));
    let status = slow.join().unwrap();
    let after = http::get(port, "/get", Some(c)).body;
    assert!(
        after.contains("\"n\": Int(1)"),
        "{path}: increment lost: {after}"
    );
    status
}

/// `path` on a session nobody else uses is answered 200, and the session it leaves (under
/// the id it answers with) holds `key`.
fn not_refused(port: u16, c: &str, path: &str, key: &str) {
    let r = http::get(port, path, Some(c));
    assert_eq!(r.status, 200, "{path}: refused: {}", r.body);
    let after = http::get(port, "/get", Some(&cookie(&r.cookie_id()))).body;
    assert!(after.contains(&format!("\"{key}\"")), "{path}: {after}");
}

/// `max_lifetime` set, a stored session without a creation time (stored before
/// `max_lifetime` was set, or by CherryPy): a request that only reads it without the lock
/// does not write its copy back to stamp it, over an increment made meanwhile.
#[test]
fn a_read_does_not_write_back_to_stamp_the_creation_time() {
    let conf = config(
        "stamp.conf",
        &format!("{EXPLICIT}tools.sessions.max_lifetime = 60\n"),
    );
    let mw = from_cherrypy_config(&conf);
    let ram = mw.ram_store().unwrap().clone();
    let id = SessionId::generate();
    let mut data = SessionData::new();
    data.insert("n".into(), SessionValue::Int(0));
    let expires = SystemTime::now() + Duration::from_secs(3600);
    actix_web::rt::System::new().block_on(async {
        ram.save(&id, Record { data, expires }).await.unwrap();
    });
    let port = serve_mw(mw);
    let status = beside_a_locked_increment(port, &cookie(id.as_str()), "/slow_read?ms=400");
    assert_eq!(status, 200);
}

/// RAM: a handler that only read and then failed keeps nothing, so writes nothing back.
#[test]
fn a_failing_read_does_not_write_back_on_ram() {
    let (port, c) = explicit("fail.conf", "");
    let status = beside_a_locked_increment(port, &c, "/slow_read_fail?ms=400");
    assert_eq!(status, 500);
}

/// `get`, then `delete()` (the data loaded is stored again at the end, as in CherryPy)
/// without the lock: not over an increment made meanwhile under the lock.
#[test]
fn read_then_delete_does_not_write_a_stale_copy() {
    let (port, c) = explicit("read-delete.conf", "");
    beside_a_locked_increment(port, &c, "/slow_read_delete");
}

/// Nobody else touches the session: `delete()` or `purge()`, then `insert()`; `insert`,
/// `regenerate`, `acquire_lock`; `get`, `regenerate`, `acquire_lock` (the data read moves
/// to the new id): none is refused, and nothing is dropped.
#[test]
fn changes_nobody_raced_are_not_refused() {
    let (port, c) = explicit("unraced.conf", "");
    not_refused(port, &c, "/delete_then_insert", "flash");
    let (port, c) = explicit("unraced-purge.conf", "");
    not_refused(port, &c, "/purge_then_insert", "flash");
    for path in ["/insert_regen_lock", "/read_regen_lock"] {
        let (port, c) = explicit("unraced-regen.conf", "");
        not_refused(port, &c, path, "n");
    }
}

/// A NaN in the session is the same NaN when the write is settled: not a change.
#[test]
fn a_nan_in_the_session_does_not_refuse_writes() {
    let port = serve_mw(from_cherrypy_config(config("nan.conf", EXPLICIT)));
    let c = cookie(&http::get(port, "/set_nan", None).cookie_id());
    not_refused(port, &c, "/incr_unlocked", "n");
}

/// The session expires while an unlocked increment runs: nobody changed it, so it is
/// stored, as CherryPy stores it.
#[test]
fn a_session_expiring_mid_request_is_not_refused() {
    let (port, c) = explicit("expiring.conf", "tools.sessions.timeout = 0.01\n");
    std::thread::sleep(Duration::from_millis(200));
    let r = http::get(port, "/slow_incr_unlocked", Some(&c));
    assert_eq!(r.status, 200, "{}", r.body);
}

/// After `regenerate()` the request's lock is on an id nobody else knows: settling its
/// changes at the end does not wait for that lock again (it would wait for itself, until
/// `lock_timeout` or for ever).
#[test]
fn changes_after_regenerate_do_not_wait_for_the_requests_own_lock() {
    for (path, key) in [("/regen_insert_lock", "b"), ("/regen_release_relock", "m")] {
        let (port, c) = explicit("own-lock.conf", "tools.sessions.lock_timeout = 3\n");
        let started = std::time::Instant::now();
        not_refused(port, &c, path, key);
        assert!(started.elapsed() < Duration::from_secs(2), "{path}: waited");
    }
}
