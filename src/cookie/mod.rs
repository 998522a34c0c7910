//! Cookies the way CherryPy reads and writes them (Python's `http.cookies`), byte for byte,
//! so a browser moving between a CherryPy server and ours sees the same headers.
//!
//! The `cookie` crate is not used here: it writes attributes in its own order and spelling
//! (`Expires=`), while CherryPy sorts them by name (`Domain`, `expires`, `HttpOnly`,
//! `Max-Age`, `Path`, `SameSite`, `Secure`), and its parser does not reproduce
//! `SimpleCookie`'s rules (last duplicate wins, quoted values, whole header rejected on a
//! bad attribute).

mod parse;
mod set_cookie;

pub use parse::cookie_value;
pub use set_cookie::{MaxAge, SetCookie, http_date};
