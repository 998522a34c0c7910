//! Any bytes: reading never panics or hangs, and the document prints back byte for byte.
#![no_main]

use actix_cherrypy::config::read_source;
use actix_cherrypy::__private::ini;
use actix_cherrypy::config::SourceFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = SourceFile::from_bytes("fuzz.conf", data.to_vec()) else {
        return;
    };
    let parsed = ini::parse(&source);
    assert_eq!(parsed.document.to_string(), source.text());
    let report = read_source(&source);
    for d in &report.diagnostics {
        // Rendering a location must not panic either.
        let _ = d.to_string();
    }
});
