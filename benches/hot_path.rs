//! Micro-benchmarks of what the middleware does on every request: the per-path settings
//! lookup, reading the Cookie header, writing Set-Cookie, and the session pickle the file,
//! memcached and Redis stores read and write. `cargo bench --bench hot_path`.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use actix_cherrypy::__private::cookie::{MaxAge, SetCookie, cookie_value};
use actix_cherrypy::__private::pickle;
use actix_cherrypy::config::SourceFile;
use actix_cherrypy::session_config::SessionConfigs;
use actix_cherrypy::session_value::{SessionData, SessionValue};
use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};

fn per_path_lookup(c: &mut Criterion) {
    let source = SourceFile::new(
        "site.conf",
        "[/]\ntools.sessions.on = True\n[/admin]\ntools.sessions.timeout = 15\n[/admin/reports/index]\ntools.sessions.locking = 'early'\n[/static]\ntools.sessions.on = False\n",
    );
    let configs = SessionConfigs::from_sources(&[source])
        .expect("valid")
        .value;
    let mut group = c.benchmark_group("per_path_lookup");
    for path in [
        "/",
        "/cart/checkout",
        "/admin/users/42/edit",
        "/admin/reports/",
    ] {
        group.bench_function(path, |b| {
            b.iter(|| black_box(configs.shared_for_path(black_box(path))))
        });
    }
    group.finish();
}

fn cookies(c: &mut Criterion) {
    let mut group = c.benchmark_group("cookie");
    let plain = "_ga=GA1.1.1234567890.1700000000; session_id=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b; theme=dark";
    let quoted = "_ga=GA1.1.1234567890.1700000000; session_id=\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b\"; theme=dark";
    group.bench_function("parse_plain_header", |b| {
        b.iter(|| black_box(cookie_value([black_box(plain).as_bytes()], "session_id")))
    });
    group.bench_function("parse_quoted_header", |b| {
        b.iter(|| black_box(cookie_value([black_box(quoted).as_bytes()], "session_id")))
    });
    let set = SetCookie {
        name: "session_id".into(),
        value: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b".into(),
        expires: Some(SystemTime::now() + Duration::from_secs(3600)),
        max_age: Some(MaxAge::Int(3600)),
        path: "/".into(),
        http_only: true,
        ..SetCookie::default()
    };
    group.bench_function("write_set_cookie", |b| {
        b.iter(|| black_box(black_box(&set).header_value()))
    });
    group.finish();
}

/// A typical logged-in session: a user, a few flags, a small cart.
fn typical_session() -> SessionData {
    let mut data = SessionData::new();
    data.insert("user".into(), SessionValue::Str("alice@example.com".into()));
    data.insert("user_id".into(), SessionValue::Int(48_213));
    data.insert(
        "roles".into(),
        SessionValue::List(vec![
            SessionValue::Str("customer".into()),
            SessionValue::Str("beta".into()),
        ]),
    );
    data.insert(
        "cart".into(),
        SessionValue::Dict(
            (0..5)
                .map(|i| {
                    (
                        SessionValue::Str(format!("sku-{i:04}")),
                        SessionValue::Int(i + 1),
                    )
                })
                .collect(),
        ),
    );
    data.insert("csrf".into(), SessionValue::Bytes(vec![0xa5; 32]));
    data.insert("last_seen".into(), SessionValue::Float(1_764_300_048.25));
    data
}

fn pickles(c: &mut Criterion) {
    let data = typical_session();
    let expires = NaiveDate::from_ymd_opt(2026, 11, 28)
        .and_then(|d| d.and_hms_micro_opt(8, 30, 0, 123_456))
        .expect("valid");
    let bytes = pickle::encode(&data, expires).expect("encodes");
    let mut group = c.benchmark_group("pickle");
    group.bench_function("encode_protocol_4", |b| {
        b.iter(|| black_box(pickle::encode(black_box(&data), expires)))
    });
    group.bench_function("decode_protocol_4", |b| {
        b.iter(|| black_box(pickle::decode(black_box(&bytes))))
    });
    let text = pickle::encode_protocol0(&data, expires).expect("encodes");
    group.bench_function("encode_protocol_0", |b| {
        b.iter(|| black_box(pickle::encode_protocol0(black_box(&data), expires)))
    });
    group.bench_function("decode_protocol_0", |b| {
        b.iter(|| black_box(pickle::decode(black_box(&text))))
    });
    group.finish();
}

criterion_group!(benches, per_path_lookup, cookies, pickles);
criterion_main!(benches);
