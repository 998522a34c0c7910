#!/usr/bin/env bash
# Instructions per request, exactly: one server under callgrind answers GET /read for
# SECONDS, after a warm-up, and the counts are divided by the requests wrk made. Unlike
# requests/s or CPU time, the count does not change with the machine's load, so a change
# of a few hundred instructions shows.
#
#   bench/callgrind.sh CASE [SESSIONS] [SECONDS]   CASE: bare | ram | actix-session-cookie
#   bench/callgrind_report.py OUT REQUESTS [BASE_OUT BASE_REQUESTS]
#
# Needs valgrind and wrk; the release bench_server is built first. Writes
# target/callgrind/CASE/{cg.out,requests} and prints the total.
set -euo pipefail
cd "$(dirname "$0")/.."
case_="${1:?usage: $0 bare|ram|actix-session-cookie [SESSIONS] [SECONDS]}"
sessions="${2:-1000}" secs="${3:-8}"
out="target/callgrind/$case_"; rm -rf "$out"; mkdir -p "$out"
cargo build --quiet --release --example bench_server --features memcached,redis
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
case $case_ in
  ram) printf '[/]\ntools.sessions.on = True\n' > "$out/site.conf"; mode=(cherrypy "$port" "$out/site.conf");;
  bare) mode=(bare "$port");;
  actix-session-cookie) mode=(actix-session-cookie "$port");;
  *) echo "unknown case $case_" >&2; exit 2;;
esac
valgrind --tool=callgrind --callgrind-out-file="$out/cg.out.%p" \
  target/release/examples/bench_server "${mode[@]}" > "$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.3; done
fake=(); [ "$case_" = bare ] && fake=(--fake)
python=python3; [ -x compat/.venv/bin/python ] && python=compat/.venv/bin/python
$python bench/sessions.py "$port" "$sessions" "$out/s.lua" "${fake[@]}" > /dev/null
wrk -t1 -c4 -d2s -s "$out/s.lua" "http://127.0.0.1:$port/read" > /dev/null
callgrind_control -z "$server" > /dev/null 2>&1
wrk -t1 -c4 -d"${secs}s" -s "$out/s.lua" "http://127.0.0.1:$port/read" > "$out/wrk.txt"
callgrind_control -d "$server" > /dev/null 2>&1
kill "$server"; wait "$server" 2>/dev/null || true
requests=$(awk '/requests in/ {print $1}' "$out/wrk.txt")
mv "$(ls -S "$out"/cg.out.* | head -1)" "$out/cg.out"; rm -f "$out"/cg.out.*
echo "$requests" > "$out/requests"
total=$(awk '/^summary:/ {print $2}' "$out/cg.out")
echo "$case_: $requests requests, $((total / requests)) instructions a request"
