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
    let c = cookie(id.as_str());
    let c1 = c.clone();
    let reader = std::thread::spawn(move || http::get(port, "/slow_read?ms=400", Some(&c1)));
    std::thread::sleep(Duration::from_millis(100));
    let incr = http::get(port, "/incr_locked", Some(&c));
    assert_eq!((incr.status, incr.body.as_str()), (200, "1"));
    let r = reader.join().unwrap();
    assert_eq!(r.status, 200);
    let after = http::get(port, "/get", Some(&c));
    assert!(
        after.body.contains("\"n\": Int(1)"),
        "increment lost: {}",
        after.body
    );
}

/// RAM: a handler that only read and then failed keeps nothing, so writes nothing back.
#[test]
fn a_failing_read_does_not_write_back_on_ram() {
    let port = serve_mw(from_cherrypy_config(config("fail.conf", EXPLICIT)));
    let first = http::get(port, "/set0", None);
    let c = cookie(&first.cookie_id());
    let c1 = c.clone();
    let reader = std::thread::spawn(move || http::get(port, "/slow_read_fail?ms=400", Some(&c1)));
    std::thread::sleep(Duration::from_millis(100));
    let incr = http::get(port, "/incr_locked", Some(&c));
    assert_eq!((incr.status, incr.body.as_str()), (200, "1"));
    assert_eq!(reader.join().unwrap().status, 500);
    let after = http::get(port, "/get", Some(&c));
    assert!(
        after.body.contains("\"n\": Int(1)"),
        "increment lost: {}",
        after.body
    );
}

/// Nobody else touches the session: `delete()` then `insert()` is not refused.
#[test]
fn delete_then_insert_is_not_refused() {
    let port = serve_mw(from_cherrypy_config(config("delete.conf", EXPLICIT)));
    let c = cookie(&http::get(port, "/set0", None).cookie_id());
    let r = http::get(port, "/delete_then_insert", Some(&c));
    assert_eq!(r.status, 200, "delete then insert refused");
}

#[test]
fn purge_then_insert_is_not_refused() {
    let port = serve_mw(from_cherrypy_config(config("purge.conf", EXPLICIT)));
    let c = cookie(&http::get(port, "/set0", None).cookie_id());
    let r = http::get(port, "/purge_then_insert", Some(&c));
    assert_eq!(r.status, 200, "purge then insert refused");
}

/// `insert`, `regenerate`, `acquire_lock`: nobody else touched the session.
#[test]
fn insert_regenerate_acquire_lock_is_not_refused() {
    let port = serve_mw(from_cherrypy_config(config("regen.conf", EXPLICIT)));
    let c = cookie(&http::get(port, "/set0", None).cookie_id());
    let r = http::get(port, "/insert_regen_lock", Some(&c));
    assert_eq!(r.status, 200, "refused");
    let after = http::get(port, "/get", Some(&cookie(&r.cookie_id())));
    assert!(after.body.contains("\"n\""), "data lost: {}", after.body);
}

/// `get`, `regenerate`, `acquire_lock`: the data read moves to the new id.
#[test]
fn read_regenerate_acquire_lock_keeps_the_data() {
    let port = serve_mw(from_cherrypy_config(config("regen-read.conf", EXPLICIT)));
    let c = cookie(&http::get(port, "/set0", None).cookie_id());
    let r = http::get(port, "/read_regen_lock", Some(&c));
    assert_eq!(r.status, 200, "refused");
    let after = http::get(port, "/get", Some(&cookie(&r.cookie_id())));
    assert!(after.body.contains("\"n\""), "data lost: {}", after.body);
}

/// A NaN in the session is the same NaN when the write is settled: not a change.
#[test]
fn a_nan_in_the_session_does_not_refuse_writes() {
    let port = serve_mw(from_cherrypy_config(config("nan.conf", EXPLICIT)));
    let c = cookie(&http::get(port, "/set_nan", None).cookie_id());
    let r = http::get(port, "/incr_unlocked", Some(&c));
    assert_eq!(
        r.status, 200,
        "unlocked write refused with a NaN in the session"
    );
}

/// `get`, then `delete()` (the data loaded is stored again at the end, as in CherryPy)
/// without the lock: not over an increment made meanwhile under the lock.
#[test]
fn read_then_delete_does_not_write_a_stale_copy() {
    let port = serve_mw(from_cherrypy_config(config("read-delete.conf", EXPLICIT)));
    let c = cookie(&http::get(port, "/set0", None).cookie_id());
    let c1 = c.clone();
    let a = std::thread::spawn(move || http::get(port, "/slow_read_delete", Some(&c1)));
    std::thread::sleep(Duration::from_millis(100));
    let incr = http::get(port, "/incr_locked", Some(&c));
    assert_eq!((incr.status, incr.body.as_str()), (200, "1"));
    let a = a.join().unwrap();
    let after = http::get(port, "/get", Some(&c));
    assert!(
        !after.body.contains("\"n\": Int(0)"),
        "stale copy stored over the increment: {} (a answered {})",
        after.body,
        a.status
    );
}

/// The session expires while an unlocked increment runs: nobody changed it, so it is
/// stored, as CherryPy stores it.
#[test]
fn a_session_expiring_mid_request_is_not_refused() {
    let port = serve_mw(from_cherrypy_config(config(
        "expiring.conf",
        &format!("{EXPLICIT}tools.sessions.timeout = 0.01\n"),
    )));
    let c = cookie(&http::get(port, "/set0", None).cookie_id());
    std::thread::sleep(Duration::from_millis(200));
    let r = http::get(port, "/slow_incr_unlocked", Some(&c));
    assert_eq!(r.status, 200);
}

/// After `regenerate()` the request's lock is on an id nobody else knows: settling its
/// changes at the end does not wait for that lock again (it would wait for itself, until
/// `lock_timeout` or for ever).
#[test]
fn changes_after_regenerate_do_not_wait_for_the_requests_own_lock() {
    let conf = format!("{EXPLICIT}tools.sessions.lock_timeout = 3\n");
    let port = serve_mw(from_cherrypy_config(config("own-lock.conf", &conf)));
    for path in ["/regen_insert_lock", "/regen_release_relock"] {
        let c = cookie(&http::get(port, "/set0", None).cookie_id());
        let started = std::time::Instant::now();
        let r = http::get(port, path, Some(&c));
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(started.elapsed() < Duration::from_secs(2), "{path}: waited");
        let after = http::get(port, "/get", Some(&cookie(&r.cookie_id())));
        assert!(
            after.body.contains("\"b\"") || after.body.contains("\"m\""),
            "{path}: {}",
            after.body
        );
    }
}
