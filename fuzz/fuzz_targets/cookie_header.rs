//! Any `Cookie` headers (one per line of the input): the session id is found or not,
//! never a panic.
#![no_main]

use actix_cherrypy::__private::cookie::cookie_value;
use actix_cherrypy::session_id::SessionId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Some(value) = cookie_value(bytes.split(|&b| b == b'\n'), "session_id") {
        // A hostile value is at most an unknown id.
        if let Some(id) = SessionId::parse(&value) {
            assert_eq!(id.as_str().len(), 40);
        }
    }
});
