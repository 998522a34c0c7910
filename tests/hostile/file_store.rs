//! Hostile input: see main.rs.
