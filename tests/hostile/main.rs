//! Attack tests: one test per way a hostile input could hurt a site that uses this crate —
//! a client's request, what a session store hands back, a config read in CI, a local user
//! sharing the storage directory. Each was written to fail before its fix. Budgets are
//! asserted (an error before the memory is spent), never timings.

#[path = "../servers/mod.rs"]
mod servers;

mod bombs;
mod config;
mod file_store;
mod hand_over;
mod locking;
mod pickle;
// Budgets of the memcached and Redis stores' own encodings.
#[cfg(all(feature = "memcached", feature = "redis"))]
mod session_budget;
