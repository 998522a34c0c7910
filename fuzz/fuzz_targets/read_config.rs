//! Any bytes: reading never panics or hangs, and the document prints back byte for byte;
//! a file that reads is checked for its session settings, which must not panic either.
#![no_main]

use actix_cherrypy::config::read_source;
use actix_cherrypy::__private::ini;
use actix_cherrypy::config::SourceFile;
use actix_cherrypy::session_config::SessionConfigs;
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
    if report.first_error().is_none()
        && let Some(file) = report.file
    {
        for d in SessionConfigs::check_files(std::slice::from_ref(&file)) {
            let _ = d.to_string();
        }
    }
});
