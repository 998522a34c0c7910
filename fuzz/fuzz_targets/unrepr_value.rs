//! Any text as a config value: CherryPy's value language never panics, hangs or blows up.
#![no_main]

use actix_cherrypy::__private::unrepr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(parsed) = unrepr::parse(text) {
        // Printing what was read back must not panic either.
        let _ = format!("{parsed:?}");
    }
});
