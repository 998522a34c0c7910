//! What an application that adds actix-cherrypy (default features) keeps working.

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Price {
        amount: f64,
    }

    #[derive(Deserialize)]
    struct Item {
        name: String,
        #[serde(flatten)]
        price: Price,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Float(f64),
        Text(String),
    }

    /// serde_json's `arbitrary_precision`, had the crate forced it, makes a flattened or
    /// untagged float fail ("invalid type: map, expected f64").
    #[test]
    fn the_apps_own_json_reads_flattened_and_untagged_floats() {
        let item: Item = serde_json::from_str(r#"{"name": "book", "amount": 1.5}"#).unwrap();
        assert_eq!((item.name.as_str(), item.price.amount), ("book", 1.5));
        let n: Number = serde_json::from_str("1.5").unwrap();
        assert!(matches!(n, Number::Float(f) if f == 1.5));
        assert!(matches!(serde_json::from_str("\"x\"").unwrap(), Number::Text(t) if t == "x"));
    }

    /// `preserve_order`, had the crate forced it, changes the order of every object the
    /// app prints.
    #[test]
    fn the_apps_json_objects_keep_serde_jsons_default_order() {
        let v: serde_json::Value = serde_json::from_str(r#"{"b": 1, "a": 2}"#).unwrap();
        assert_eq!(v.to_string(), r#"{"a":2,"b":1}"#);
    }

    /// And the crate itself works as the README shows.
    #[actix_web::test]
    async fn the_middleware_serves_a_session() {
        use actix_cherrypy::middleware::CherryPySessions;
        use actix_cherrypy::session::Session;
        use actix_web::{App, test, web};

        let site = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/site.conf");
        let sessions = CherryPySessions::from_file(site).expect("site.conf reads");
        let app = test::init_service(App::new().wrap(sessions).route(
            "/",
            web::get().to(|s: Session| async move {
                let n: i64 = s.get("n")?.unwrap_or(0) + 1;
                s.insert("n", n)?;
                Ok::<_, actix_web::Error>(n.to_string())
            }),
        ))
        .await;
        let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        assert!(res.headers().contains_key("set-cookie"));
        assert_eq!(test::read_body(res).await, "1");
    }
}
