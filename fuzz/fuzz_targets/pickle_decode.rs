//! Any bytes as a stored session (a session file, a memcached or Redis value): decoding
//! returns the session or an error, within its budget, and never panics.
#![no_main]

use actix_cherrypy::__private::pickle;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok((data, expires)) = pickle::decode(bytes) {
        // Whatever we could read, we can write back and read again, equal.
        let again = pickle::encode(&data, expires).expect("a decoded session encodes");
        let (data2, expires2) = pickle::decode(&again).expect("what we write reads back");
        assert_eq!(actix_cherrypy::session_value::dict_repr(&data), actix_cherrypy::session_value::dict_repr(&data2));
        assert_eq!(expires, expires2);
    }
});
