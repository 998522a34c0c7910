//! The probe server of the HTTP conformance test: `probe_server CONFIG PORT` serves, on
//! 127.0.0.1:PORT, the same text/plain endpoints as `compat/http/probe_app.py` does from
//! real CherryPy, at `/` and again under `/admin/`.

use std::time::Duration;

use actix_cherrypy::middleware::CherryPySessions;
use actix_cherrypy::session::Session;
use actix_cherrypy::session_value::{SessionValue, dict_repr};
use actix_web::{App, HttpResponse, HttpServer, web};
use serde::Deserialize;

#[derive(Deserialize)]
struct Q {
    key: Option<String>,
    value: Option<String>,
    ms: Option<u64>,
    /// `/lock_explicit`: milliseconds of work after `release_lock()`.
    after: Option<u64>,
    /// `/lock_explicit`: a key set to "1" after that work (a change after the release).
    late: Option<String>,
    touch: Option<String>,
    release: Option<String>,
    /// `/lock_explicit`: a key read before `acquire_lock()` (an authentication check).
    peek: Option<String>,
    status: Option<u16>,
}

impl Q {
    fn key(&self, default: &str) -> String {
        self.key.clone().unwrap_or_else(|| default.to_owned())
    }
}

fn text(body: impl Into<String>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain;charset=utf-8")
        .body(body.into())
}

async fn set(s: Session, q: web::Query<Q>) -> HttpResponse {
    let value = q.value.clone().unwrap_or_default();
    s.insert_value(q.key(""), SessionValue::Str(value.clone()))
        .expect("a query value fits the session budget");
    text(value)
}

async fn get(s: Session, q: web::Query<Q>) -> HttpResponse {
    let value = s.get_value(&q.key(""));
    // Work after the read: a request that changed nothing ends while others run.
    pause(q.ms.unwrap_or(0)).await;
    text(value.map(|v| v.python_str()).unwrap_or_default())
}

async fn dump(s: Session) -> HttpResponse {
    text(dict_repr(&s.entries()))
}

async fn id(s: Session) -> HttpResponse {
    text(s.id().to_string())
}

async fn noop() -> HttpResponse {
    text("noop")
}

async fn expire(s: Session) -> HttpResponse {
    s.expire();
    text("expired")
}

async fn regenerate(s: Session, q: web::Query<Q>) -> HttpResponse {
    if q.touch.as_deref() == Some("1") {
        let _ = s.entries();
    }
    let old = s.id();
    let new = s.regenerate_with_persistent_cookie();
    text(format!("{old} {new}"))
}

/// The session object's `regenerate()`, as a login handler calls it.
async fn regenerate_session(s: Session, q: web::Query<Q>) -> HttpResponse {
    if q.touch.as_deref() == Some("1") {
        let _ = s.entries();
    }
    let old = s.id();
    let new = s.regenerate();
    text(format!("{old} {new}"))
}

/// Sleeps `ms` milliseconds; 0 does not wait for the timer's next tick (a millisecond).
async fn pause(ms: u64) {
    if ms > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(ms)).await;
    }
}

/// Read an int (default 0), sleep, write it plus one: CherryPy's `int(session.get(k, 0))`.
async fn incr(s: &Session, q: &Q) -> String {
    let key = q.key("n");
    let n = match s.get_value(&key) {
        Some(SessionValue::Int(n)) => n,
        Some(SessionValue::Str(t)) => t.trim().parse().unwrap_or(0),
        _ => 0,
    };
    pause(q.ms.unwrap_or(200)).await;
    s.insert_value(key, SessionValue::Int(n + 1))
        .expect("a query value fits the session budget");
    format!("{n}->{}", n + 1)
}

async fn slow_incr(s: Session, q: web::Query<Q>) -> HttpResponse {
    text(incr(&s, &q).await)
}

async fn lock_explicit(s: Session, q: web::Query<Q>) -> actix_web::Result<HttpResponse> {
    if let Some(key) = &q.peek {
        let _ = s.get_value(key);
    }
    s.acquire_lock()
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    let body = incr(&s, &q).await;
    if q.release.as_deref() != Some("0") {
        s.release_lock();
    }
    // Work after the release: the next holder runs meanwhile.
    pause(q.after.unwrap_or(0)).await;
    if let Some(late) = &q.late {
        s.insert_value(late.clone(), SessionValue::Str("1".into()))
            .expect("a query value fits the session budget");
    }
    Ok(text(body))
}

/// An unexpected failure after writing the session (CherryPy: an exception, not HTTPError).
async fn error500(s: Session, q: web::Query<Q>) -> actix_web::Result<HttpResponse> {
    s.insert_value(
        q.key("e"),
        SessionValue::Str(q.value.clone().unwrap_or("1".into())),
    )
    .expect("a query value fits the session budget");
    Err(actix_web::error::ErrorInternalServerError(
        "probe: handler failed after writing the session",
    ))
}

async fn httperror(s: Session, q: web::Query<Q>) -> HttpResponse {
    s.insert_value(
        q.key("h"),
        SessionValue::Str(q.value.clone().unwrap_or("1".into())),
    )
    .expect("a query value fits the session budget");
    let status = actix_web::http::StatusCode::from_u16(q.status.unwrap_or(404))
        .unwrap_or(actix_web::http::StatusCode::NOT_FOUND);
    HttpResponse::build(status).finish()
}

async fn redirect(req: actix_web::HttpRequest, s: Session, q: web::Query<Q>) -> HttpResponse {
    let key = q.key("r");
    s.insert_value(
        key.clone(),
        SessionValue::Str(q.value.clone().unwrap_or("1".into())),
    )
    .expect("a query value fits the session budget");
    // CherryPy's HTTPRedirect resolves the URL against the request's.
    let base = req.path().rsplit_once('/').map_or("", |(dir, _)| dir);
    HttpResponse::SeeOther()
        .insert_header(("Location", format!("{base}/get?key={key}")))
        .finish()
}

pub(crate) fn probe(cfg: &mut web::ServiceConfig) {
    cfg.route("/set", web::get().to(set))
        .route("/get", web::get().to(get))
        .route("/dump", web::get().to(dump))
        .route("/id", web::get().to(id))
        .route("/noop", web::get().to(noop))
        .route("/expire", web::get().to(expire))
        .route("/regenerate", web::get().to(regenerate))
        .route("/regenerate_session", web::get().to(regenerate_session))
        .route("/slow_incr", web::get().to(slow_incr))
        .route("/lock_explicit", web::get().to(lock_explicit))
        .route("/error500", web::get().to(error500))
        .route("/httperror", web::get().to(httperror))
        .route("/redirect", web::get().to(redirect));
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(config), Some(port)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: probe_server CONFIG PORT");
    };
    let sessions = CherryPySessions::from_file(&config)?;
    HttpServer::new(move || {
        App::new()
            .wrap(sessions.clone())
            .configure(probe)
            .service(web::scope("/admin").configure(probe))
    })
    .bind(("127.0.0.1", port.parse::<u16>()?))?
    .run()
    .await?;
    Ok(())
}
