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
            .wrap(actix_session_middleware(
                admin,
                CookieSessionStore::default(),
                Key::generate(),
            ))
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
