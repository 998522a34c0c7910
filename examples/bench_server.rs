//! The servers of `bench/run.sh`, one binary: `bench_server MODE PORT [ARG]`, on
//! 127.0.0.1:PORT with one worker, all answering the same three requests:
//!
//! - `GET /login`: starts a session holding `user` (the benchmark's cookie comes from here);
//! - `GET /read`: reads `user` from the session and returns it (the main case);
//! - `GET /write`: increments `n` in the session;
//! - `GET /slow`: reads `user`, sleeps 5 ms (a handler that takes time, for the one-session
//!   contention case).
//!
//! MODE is `bare` (actix-web, no session: the ceiling), `cherrypy CONFIG` (this crate,
//! configured from a CherryPy file), `actix-session-cookie`, or `actix-session-redis URL`.

#![allow(
    clippy::print_stderr,
    reason = "a command-line program reports its usage"
)]

use std::time::Duration;

use actix_cherrypy::middleware::CherryPySessions;
use actix_cherrypy::session::Session;
use actix_cherrypy::session_value::SessionValue;
use actix_session::SessionMiddleware;
use actix_session::storage::{CookieSessionStore, RedisSessionStore};
use actix_web::cookie::Key;
use actix_web::{App, HttpResponse, HttpServer, web};

const USER: &str = "alice@example.com";

mod ours {
    use super::*;

    pub(super) async fn login(s: Session) -> HttpResponse {
        s.insert_value("user", SessionValue::Str(USER.into()))
            .expect("a small value fits the session budget");
        HttpResponse::Ok().body("ok")
    }

    pub(super) async fn read(s: Session) -> HttpResponse {
        match s.get_value("user") {
            Some(SessionValue::Str(user)) => HttpResponse::Ok().body(user),
            _ => HttpResponse::Unauthorized().finish(),
        }
    }

    pub(super) async fn write(s: Session) -> HttpResponse {
        let n = match s.get_value("n") {
            Some(SessionValue::Int(n)) => n + 1,
            _ => 1,
        };
        s.insert_value("n", SessionValue::Int(n))
            .expect("a small value fits the session budget");
        HttpResponse::Ok().body(n.to_string())
    }

    pub(super) async fn slow(s: Session) -> HttpResponse {
        let user = s.get_value("user");
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        HttpResponse::Ok().body(format!("{user:?}"))
    }
}

mod theirs {
    use super::*;
    use actix_session::Session;

    pub(super) async fn login(s: Session) -> HttpResponse {
        match s.insert("user", USER) {
            Ok(()) => HttpResponse::Ok().body("ok"),
            Err(_) => HttpResponse::InternalServerError().finish(),
        }
    }

    pub(super) async fn read(s: Session) -> HttpResponse {
        match s.get::<String>("user") {
            Ok(Some(user)) => HttpResponse::Ok().body(user),
            _ => HttpResponse::Unauthorized().finish(),
        }
    }

    pub(super) async fn write(s: Session) -> HttpResponse {
        let n = s.get::<i64>("n").ok().flatten().unwrap_or(0) + 1;
        match s.insert("n", n) {
            Ok(()) => HttpResponse::Ok().body(n.to_string()),
            Err(_) => HttpResponse::InternalServerError().finish(),
        }
    }

    pub(super) async fn slow(s: Session) -> HttpResponse {
        let user = s.get::<String>("user").ok().flatten();
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        HttpResponse::Ok().body(format!("{user:?}"))
    }
}

async fn bare() -> HttpResponse {
    HttpResponse::Ok().body(USER)
}

async fn bare_slow() -> HttpResponse {
    actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    HttpResponse::Ok().body(USER)
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, port, arg) = match args.as_slice() {
        [mode, port] => (mode.as_str(), port.parse::<u16>()?, None),
        [mode, port, arg] => (mode.as_str(), port.parse::<u16>()?, Some(arg.clone())),
        _ => {
            eprintln!(
                "usage: bench_server bare|cherrypy|actix-session-cookie|actix-session-redis PORT [CONFIG|URL]"
            );
            std::process::exit(2);
        }
    };
    let address = ("127.0.0.1", port);
    // The same key in every run: the cookie from /login stays valid for the whole case.
    let key = Key::from(&[7u8; 64]);
    match (mode, arg) {
        ("bare", None) => {
            HttpServer::new(|| {
                App::new()
                    .route("/login", web::get().to(bare))
                    .route("/read", web::get().to(bare))
                    .route("/write", web::get().to(bare))
                    .route("/slow", web::get().to(bare_slow))
            })
            .workers(1)
            .bind(address)?
            .run()
            .await?
        }
        ("cherrypy", Some(config)) => {
            let sessions = CherryPySessions::from_file(&config)?;
            HttpServer::new(move || {
                App::new()
                    .wrap(sessions.clone())
                    .route("/login", web::get().to(ours::login))
                    .route("/read", web::get().to(ours::read))
                    .route("/write", web::get().to(ours::write))
                    .route("/slow", web::get().to(ours::slow))
            })
            .workers(1)
            .bind(address)?
            .run()
            .await?
        }
        ("actix-session-cookie", None) => {
            HttpServer::new(move || {
                App::new()
                    .wrap(SessionMiddleware::new(
                        CookieSessionStore::default(),
                        key.clone(),
                    ))
                    .route("/login", web::get().to(theirs::login))
                    .route("/read", web::get().to(theirs::read))
                    .route("/write", web::get().to(theirs::write))
                    .route("/slow", web::get().to(theirs::slow))
            })
            .workers(1)
            .bind(address)?
            .run()
            .await?
        }
        ("actix-session-redis", Some(url)) => {
            let store = RedisSessionStore::new(url).await?;
            HttpServer::new(move || {
                App::new()
                    .wrap(SessionMiddleware::new(store.clone(), key.clone()))
                    .route("/login", web::get().to(theirs::login))
                    .route("/read", web::get().to(theirs::read))
                    .route("/write", web::get().to(theirs::write))
                    .route("/slow", web::get().to(theirs::slow))
            })
            .workers(1)
            .bind(address)?
            .run()
            .await?
        }
        _ => anyhow::bail!("unknown mode {mode:?} (or a missing/extra argument)"),
    }
    Ok(())
}
