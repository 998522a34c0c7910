//! actix-cherrypy: read CherryPy config files exactly as CherryPy does.

pub mod unrepr;
