//! A small site configured from a CherryPy config file: a visit counter and a login form,
//! with CherryPy's session semantics. `cargo run --example demo` serves `fixtures/site.conf`
//! on the address its `[global]` section names (`server.socket_host`, `server.socket_port`).

#![allow(clippy::print_stdout)]

use actix_cherrypy::config::Config;
use actix_cherrypy::middleware::CherryPySessions;
use actix_cherrypy::session::Session;
use actix_cherrypy::unrepr::Value;
use actix_web::{App, HttpResponse, HttpServer, web};
use serde::Deserialize;

async fn index(session: Session) -> actix_web::Result<HttpResponse> {
    let visits: i64 = session.get("visits")?.unwrap_or(0) + 1;
    session.insert("visits", visits)?;
    let user: Option<String> = session.get("user")?;
    let greeting = match user {
        // The name is the visitor's own input: escaped, or the page runs whatever script
        // they typed as their name.
        Some(user) => format!(
            "<p>Signed in as <b>{}</b>. <a href=\"/logout\">Sign out</a></p>",
            html_escape::encode_text(&user)
        ),
        None => "<form method=\"post\" action=\"/login\">Name: <input name=\"user\"> <button>Sign in</button></form>".to_owned(),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<h1>actix-cherrypy demo</h1><p>You have been here {visits} time(s) in this session \
         (id {}).</p>{greeting}<p><a href=\"/admin\">Admin area</a> (its own cookie)</p>",
            session.id()
        )))
}

#[derive(Deserialize)]
struct Login {
    user: String,
}

async fn login(session: Session, form: web::Form<Login>) -> actix_web::Result<HttpResponse> {
    // A new id on sign-in: the pre-login id cannot be used to ride the signed-in session.
    session.regenerate();
    session.insert("user", form.user.trim())?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/"))
        .finish())
}

async fn logout(session: Session) -> HttpResponse {
    session.purge();
    HttpResponse::SeeOther()
        .insert_header(("Location", "/"))
        .finish()
}

async fn admin(session: Session) -> actix_web::Result<HttpResponse> {
    let views: i64 = session.get("admin_views")?.unwrap_or(0) + 1;
    session.insert("admin_views", views)?;
    Ok(HttpResponse::Ok().body(format!("admin session {}: {views} view(s)\n", session.id())))
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let file = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fixtures/site.conf".to_owned());
    // Built once, outside HttpServer::new, so every worker shares one session store.
    let sessions = CherryPySessions::from_file(&file)?;
    let config = Config::load(&[&file])?.value;
    let host = match config.global().get("server.socket_host").map(|s| &*s.value) {
        Some(Value::Str(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = match config.global().get("server.socket_port").map(|s| &*s.value) {
        Some(Value::Int(port)) => u16::try_from(port.clone()).unwrap_or(8080),
        _ => 8080,
    };
    println!("serving {file} on http://{host}:{port}/");
    HttpServer::new(move || {
        App::new()
            .wrap(sessions.clone())
            .route("/", web::get().to(index))
            .route("/login", web::post().to(login))
            .route("/logout", web::get().to(logout))
            .route("/admin", web::get().to(admin))
    })
    .bind((host.as_str(), port))?
    .run()
    .await?;
    Ok(())
}
