#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), starting from the seeds kept in
# fuzz/seeds/<target> (the corpus a run grows goes to fuzz/corpus/<target>, not committed),
# and prints each target's executions. Exits non-zero on the first crash, leaving the input
# in fuzz/artifacts/<target>/. Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(read_config unrepr_value cookie_header pickle_decode pickle_roundtrip)

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
# libFuzzer's instrumentation needs nightly flags: the nightly toolchain where installed,
# else the stable one with RUSTC_BOOTSTRAP.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi
"${fuzz[@]}" build -O >&2

for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log="$(mktemp)"
  if ! "${fuzz[@]}" run -O "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 >"$log" 2>&1; then
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" >&2 || tail -20 "$log" >&2
    echo "fuzz/run.sh: $t crashed" >&2
    exit 1
  fi
  runs="$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1)"
  echo "fuzz $t: ${runs:-no summary}, no crash"
  rm -f "$log"
done
