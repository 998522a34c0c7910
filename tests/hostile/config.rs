//! Hostile input: see main.rs. Here: request paths against per-path settings, and config
//! files read by `check` in CI (a typo must not take gigabytes).

use std::path::PathBuf;

use actix_cherrypy::limits;
use actix_cherrypy::middleware::CherryPySessions;
use actix_cherrypy::session_config::SessionConfigs;
use actix_cherrypy::source::SourceFile;
use actix_web::{HttpResponse, web};

use crate::servers::http;

/// A config file of its own for one test.
fn config_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "actix-cherrypy-hostile-config-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn configs(text: &str) -> SessionConfigs {
    SessionConfigs::from_sources(&[SourceFile::new("t.conf", text)])
        .expect("a valid config")
        .value
}

/// A path of a million bytes, and a section as deep as the path, in both eras: the lookup
/// walks the segments once. The old lookup copied every prefix of the path (a 2.x config:
/// 250 GB for this path) or hashed every prefix (3.x: minutes), and reading the config
/// listed every prefix of the section's name the same way.
#[test]
fn a_long_path_is_looked_up_without_copying_its_prefixes() {
    let deep = "/a".repeat(500_000);
    for key in ["tools.sessions.timeout", "session_filter.timeout"] {
        let configs = configs(&format!("[/a]\n{key} = 1\n[{deep}]\n{key} = 2\n"));
        let timeout = |path: &str| configs.session_for_path(path).timeout.value.as_f64();
        assert_eq!(timeout(&format!("{deep}/b")), 2.0, "{key}");
        assert_eq!(
            timeout(&format!("{}/b", &deep[..deep.len() - 2])),
            1.0,
            "{key}"
        );
        assert_eq!(timeout(&"/b".repeat(500_000)), 60.0, "{key}");
    }
}

/// A path longer than the budget is answered `414 URI Too Long`, with no session opened
/// (no cookie); a path just within it is served.
#[test]
fn an_over_long_path_is_414_before_any_session_work() {
    let path = config_file("on.conf", "[/]\ntools.sessions.on = True\n");
    let port = http::serve(
        1,
        move || CherryPySessions::from_file(&path).unwrap(),
        |cfg| {
            cfg.default_service(web::to(|| async { HttpResponse::Ok().body("ok") }));
        },
    );
    let long = "/a".repeat(limits::MAX_REQUEST_PATH_BYTES / 2 + 1);
    let reply = http::get(port, &long, None);
    assert_eq!(reply.status, 414);
    assert!(reply.set_cookies.is_empty());
    let within = &long[..limits::MAX_REQUEST_PATH_BYTES];
    let reply = http::get(port, within, None);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.set_cookies.len(), 1);
}
