#!/usr/bin/env bash
# Every check CI runs, in order. Sets up the CherryPy oracle (compat/.venv) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

compat/setup.sh
cargo fmt --all -- --check
cargo clippy --all-targets --all-features -- -D warnings
# Without the store features the crate and its tests build and lint too (a test that
# names a store type must say which feature it needs).
cargo clippy --all-targets --no-default-features -- -D warnings
# Each store feature alone: code shared by the server stores must not go unused without
# the other (the fuzz targets build with memcached alone).
cargo clippy --lib --no-default-features --features memcached -- -D warnings
cargo clippy --lib --no-default-features --features redis -- -D warnings
# Without the store features: a config asking for memcached/redis is a located error.
cargo test --no-default-features --lib --quiet missing_features
cargo check --no-default-features --features actix-session
INSTA_UPDATE=no cargo test --all-features
# An application that adds the crate with its default features: its own JSON still works,
# and it compiles no command-line crates.
# The user app shares the crate's target directory: the dependencies it has in common (with
# the same features) are built once.
CARGO_TARGET_DIR="$PWD/target" cargo test --manifest-path tests/user-app/Cargo.toml
if CARGO_TARGET_DIR="$PWD/target" cargo tree --manifest-path tests/user-app/Cargo.toml \
    -e normal --prefix none | grep -E '^(clap|anyhow) '; then
  echo "scripts/test.sh: the library's default features pull in command-line crates" >&2
  exit 1
fi
# The redis feature's TLS, as the library builds it for an application (the tests' own
# dependencies turn on more of rustls): rustls' default provider alone (a second one would
# leave an application's own rustls unable to choose), and TLS 1.2 as well as 1.3, as
# redis-py speaks both.
rustls_features=$(cargo tree --no-default-features --features redis -e normal -i rustls -f '{f}' --depth 0)
case ",$rustls_features," in
  *,ring,*) echo "scripts/test.sh: the redis feature adds rustls' ring provider" >&2; exit 1 ;;
  *,aws-lc-rs,*tls12,*) ;;
  *) echo "scripts/test.sh: rustls is built with [$rustls_features], not aws-lc-rs and tls12" >&2; exit 1 ;;
esac
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features
# The benchmark script still runs end to end (1 s per case); the real run is bench/run.sh.
bench/run.sh --smoke
# Every fuzz target for FUZZ_SECONDS each, when set (CI: 30 s); fuzz/run.sh alone for longer.
if [ -n "${FUZZ_SECONDS:-}" ]; then
  fuzz/run.sh "$FUZZ_SECONDS"
fi
