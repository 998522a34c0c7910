//! Our middleware in an actix-web server on a free loopback port, and the raw HTTP/1.1
//! client the tests talk to any server with: a client library would hide the exact bytes
//! of the headers, which are what the tests check.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use actix_cherrypy::middleware::CherryPySessions;
use actix_web::{App, HttpServer, web};

/// Serves `routes` behind the middleware `sessions` makes, with `workers` workers, in a
/// thread of its own; returns the port, which accepts connections already.
pub(crate) fn serve(
    workers: usize,
    sessions: impl Fn() -> CherryPySessions + Send + Clone + 'static,
    routes: impl Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || App::new().wrap(sessions()).configure(routes.clone()))
                .workers(workers)
                .listen(listener)
                .unwrap()
                .run()
                .await
                .unwrap()
        })
    });
    port
}

/// A response, as far as the tests look at it.
#[derive(Default)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    /// The values of the `Set-Cookie` headers, in order.
    pub(crate) set_cookies: Vec<String>,
    /// The `Date` header's value, or "".
    pub(crate) date: String,
    pub(crate) body: String,
}

impl Reply {
    fn parse(text: &str) -> Option<Self> {
        let (head, body) = text.split_once("\r\n\r\n")?;
        let mut lines = head.lines();
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers: Vec<(&str, &str)> = lines.filter_map(|l| l.split_once(": ")).collect();
        let named = |wanted: &'static str| {
            headers
                .iter()
                .filter(move |(name, _)| name.eq_ignore_ascii_case(wanted))
                .map(|(_, value)| (*value).to_owned())
        };
        Some(Self {
            status,
            set_cookies: named("set-cookie").collect(),
            date: named("date").next().unwrap_or_default(),
            body: body.to_owned(),
        })
    }

    /// The value of the first cookie the response sets, whatever its name; there must be one.
    pub(crate) fn cookie_id(&self) -> String {
        let c = &self.set_cookies[0];
        c[c.find('=').unwrap() + 1..c.find(';').unwrap_or(c.len())].to_owned()
    }

    /// The `session_id` cookie's value, or "" when the response sets none.
    pub(crate) fn session_id(&self) -> String {
        self.set_cookies
            .iter()
            .find_map(|c| c.strip_prefix("session_id="))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
            .unwrap_or_default()
    }

    /// The first `Set-Cookie` header's value, or "" when there is none.
    pub(crate) fn set_cookie(&self) -> &str {
        self.set_cookies.first().map_or("", String::as_str)
    }
}

/// `GET path` on a connection of its own, with `cookie` as the `Cookie` header. A server
/// that drops the connection without a whole answer (a handler panicked) gives status 0.
pub(crate) fn get(port: u16, path: &str, cookie: Option<&str>) -> Reply {
    let mut stream = send(port, path, cookie).unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    Reply::parse(&text).unwrap_or_default()
}

/// [`get`], with every failure as an error (for servers that may be dying).
pub(crate) fn try_get(port: u16, path: &str, cookie: Option<&str>) -> std::io::Result<Reply> {
    let mut text = String::new();
    send(port, path, cookie)?.read_to_string(&mut text)?;
    Reply::parse(&text)
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {text:?}")))
}

fn send(port: u16, path: &str, cookie: Option<&str>) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{cookie}Connection: close\r\n\r\n"
    )?;
    Ok(stream)
}

/// `(status, session id from Set-Cookie or "", body)` of `GET path` in session `id`.
pub(crate) fn session_get(port: u16, path: &str, id: Option<&str>) -> (u16, String, String) {
    try_session_get(port, path, id).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// [`session_get`], with every failure as an error (for servers that may be dying).
pub(crate) fn try_session_get(
    port: u16,
    path: &str,
    id: Option<&str>,
) -> std::io::Result<(u16, String, String)> {
    let cookie = id.map(|id| format!("session_id={id}"));
    let reply = try_get(port, path, cookie.as_deref())?;
    Ok((reply.status, reply.session_id(), reply.body))
}
