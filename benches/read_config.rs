//! Reading a 10,000-line config: the INI layer, interpolation and every value.

use actix_cherrypy::config::SourceFile;
use actix_cherrypy::config::read_source;
use criterion::{Criterion, criterion_group, criterion_main};

/// The demo site's config (comments, plain values, a few sections) repeated with its path
/// sections renamed until it is 10,000 lines long: what a large real config looks like.
fn typical_ten_thousand_lines() -> String {
    let site = std::fs::read_to_string("fixtures/site.conf").expect("run from the crate root");
    let (global, paths) = site.split_at(site.find("\n[/]").expect("a [/] section") + 1);
    let mut text = global.to_owned();
    let mut copy = 0;
    while text.lines().count() < 10_000 {
        copy += 1;
        text.push_str(&paths.replace("[/", &format!("[/copy{copy}")));
    }
    text
}

/// Every section full of expressions: dotted names, arithmetic, interpolation, multi-line
/// tuples and lists of tuples. A worst case rather than a typical file.
fn expression_heavy_ten_thousand_lines() -> String {
    let mut text =
        String::from("[DEFAULT]\nroot = \"/srv/site\"\n\n[global]\nserver.socket_port = 8080\n");
    let mut section = 0;
    while text.lines().count() < 10_000 {
        section += 1;
        text.push_str(&format!("\n# section {section}\n[/app{section}]\n"));
        text.push_str("tools.sessions.on = True\n");
        text.push_str("tools.sessions.timeout = 60 * 24\n");
        text.push_str("tools.sessions.storage_class = cherrypy.lib.sessions.FileSession\n");
        text.push_str("tools.staticdir.dir = %(root)s + \"/static\"\n");
        text.push_str("request.methods_with_bodies = (\"POST\", \"PUT\",\n    \"PATCH\")\n");
        text.push_str("tools.response_headers.headers = [('X-Frame-Options', 'DENY')]\n");
    }
    text
}

fn bench(c: &mut Criterion) {
    let typical = typical_ten_thousand_lines();
    c.bench_function("read typical 10,000-line config", |b| {
        b.iter(|| {
            let source = SourceFile::new("bench.conf", typical.clone());
            let report = read_source(&source);
            assert!(report.first_error().is_none());
            report
        })
    });
    let text = expression_heavy_ten_thousand_lines();
    c.bench_function("read expression-heavy 10,000-line config", |b| {
        b.iter(|| {
            let source = SourceFile::new("bench.conf", text.clone());
            let report = read_source(&source);
            assert!(report.first_error().is_none());
            report
        })
    });
    c.bench_function("INI layer alone, 10,000 lines", |b| {
        b.iter(|| {
            actix_cherrypy::__private::ini::parse(&SourceFile::new("bench.conf", text.clone()))
        })
    });
    let values: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once(" = ").map(|(_, v)| v))
        .collect();
    c.bench_function("value language alone, every value of it", |b| {
        b.iter(|| {
            for v in &values {
                let _ = actix_cherrypy::__private::unrepr::parse(v);
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
