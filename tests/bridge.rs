//! The actix-session bridge: CherryPy's cookie settings on actix-session's middleware.
#![cfg(feature = "actix-session")]

use actix_cherrypy::bridge::actix_session_middleware;
use actix_cherrypy::session_config::SessionConfigs;
use actix_session::Session;
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::Key;
use actix_web::{App, HttpResponse, test, web};

async fn touch(session: Session) -> actix_web::Result<HttpResponse> {
    session.insert("n", 1)?;
    Ok(HttpResponse::Ok().finish())
}

#[actix_web::test]
async fn the_admin_sections_cookie_settings_carry_over() {
    let configs = SessionConfigs::load(&["fixtures/site.conf"]).unwrap().value;
    let admin = configs.session_for_path("/admin");
    let app = test::init_service(
        App::new()
            .wrap(
                actix_session_middleware(admin, CookieSessionStore::default(), Key::generate())
                    .unwrap(),
            )
            .route("/", web::get().to(touch)),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("admin_session_id="), "{cookie}");
    assert!(cookie.contains("Max-Age=900"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    // site.conf's [global] sets httponly = True, which [/admin] inherits.
    assert!(cookie.contains("HttpOnly"), "{cookie}");
}

/// A cookie name set in code that a config file may not give is refused, as it is by the
/// CherryPy middleware, rather than written into every `Set-Cookie`.
#[actix_web::test]
async fn a_config_made_in_code_is_checked() {
    let bad = actix_cherrypy::session_config::SessionConfig::default()
        .on(true)
        .name("a b;c");
    let err = actix_session_middleware(&bad, CookieSessionStore::default(), Key::generate())
        .err()
        .expect("refused");
    let file = actix_cherrypy::CherryPySessions::from_session_config(bad).unwrap_err();
    assert_eq!(err.diagnostic().code, file.diagnostic().code);
}
