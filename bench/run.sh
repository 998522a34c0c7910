#!/usr/bin/env bash
# Side-by-side HTTP benchmark, one run, ratios: bare actix-web, this crate on every store,
# actix-session (cookie, Redis) and CherryPy 18.10 (RAM, file), all answering the same
# requests (examples/bench_server.rs, bench/cherrypy_app.py). See bench/README.md.
#
#   bench/run.sh                 # 10 s per case, 16 connections
#   bench/run.sh --smoke         # 1 s per case, 4 connections: checks that everything runs
#   bench/run.sh --save          # also writes bench/results/<date>-<host>.txt
#   bench/run.sh --duration 30 --connections 32
#   bench/run.sh --only 'redis'  # only the cases whose name matches
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10 connections=16 smoke=0 save=0 only=
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 duration=1 connections=4 ;;
    --save) save=1 ;;
    --duration) duration="$2"; shift ;;
    --connections) connections="$2"; shift ;;
    --only) only="$2"; shift ;;
    *) echo "usage: $0 [--smoke] [--save] [--duration S] [--connections N] [--only REGEX]" >&2; exit 2 ;;
  esac
  shift
done

# ---- what the run needs ------------------------------------------------------------------
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v redis-server >/dev/null || need+=(redis-server)
command -v memcached >/dev/null || need+=(memcached)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "$0: install ${need[*]}" >&2
    exit 1
  fi
fi
compat/setup.sh
cargo build --release --quiet --example bench_server --features memcached,redis
server=target/release/examples/bench_server
python=compat/.venv/bin/python

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 200); do
    (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

redis_port="$(free_port)"
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no >/dev/null &
pids+=($!)
memcached_port="$(free_port)"
mc_user=(); [ "$(id -u)" = 0 ] && mc_user=(-u root)
memcached -l 127.0.0.1 -p "$memcached_port" -U 0 -m 256 "${mc_user[@]}" >/dev/null &
pids+=($!)
wait_port "$redis_port" && wait_port "$memcached_port"

mkdir -p "$work/ours-files" "$work/cherrypy-files"
conf() { printf '[/]\ntools.sessions.on = True\n%s' "$2" >"$work/$1.conf"; }
conf ram ''
conf file "tools.sessions.storage_type = \"file\"
tools.sessions.storage_path = \"$work/ours-files\"
"
conf memcached "tools.sessions.storage_type = \"memcached\"
tools.sessions.servers = [\"127.0.0.1:$memcached_port\"]
"
conf redis "tools.sessions.storage_type = \"redis\"
tools.sessions.port = $redis_port
"
conf cherrypy-ram ''
conf cherrypy-file "tools.sessions.storage_type = \"file\"
tools.sessions.storage_path = \"$work/cherrypy-files\"
"

# ---- one case ---------------------------------------------------------------------------
raw="$work/raw.txt"
: >"$raw"
declare -A rps
rows=()

# case NAME PATH COMMAND... (the word PORT in COMMAND becomes the server's port)
case_() {
  local name="$1" path="$2"
  shift 2
  local port cmd=() cookie out cpu
  if [ -n "$only" ] && ! [[ "$name" =~ $only ]]; then return; fi
  port="$(free_port)"
  for word in "$@"; do cmd+=("${word//PORT/$port}"); done
  local file="$work/${name//\//_}"
  "${cmd[@]}" >"$file.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  if ! wait_port "$port"; then
    rows+=("$(printf '%-30s %10s   (server did not start: %s)' "$name" n/a "$(tail -1 "$file.log")")")
    kill -KILL "$pid" 2>/dev/null || true
    return
  fi
  cookie="$(curl -s -D - -o /dev/null "http://127.0.0.1:$port/login" |
    tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1)"
  # Bare actix-web sets no cookie; it gets one of the same size to parse past.
  [ "$name" = bare ] && cookie="session_id=$(printf '%040d' 0)"
  if [ -z "$cookie" ]; then
    rows+=("$(printf '%-30s %10s   (no session cookie from /login)' "$name" n/a)")
    kill -KILL "$pid" 2>/dev/null || true
    return
  fi
  # wrk's own CPU time (user + system), from bash's `time`.
  local TIMEFORMAT='%U %S'
  { time wrk -t1 -c"$connections" -d"${duration}s" --latency -H "Cookie: $cookie" \
      "http://127.0.0.1:$port$path" >"$file.wrk" 2>&1; } 2>"$file.time"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  { echo "=== $name: GET $path"; cat "$file.wrk"; } >>"$raw"
  out="$(awk '
    /Requests\/sec/ {r=$2}
    /^ +50%/ {p50=$2}
    /^ +99%/ {p99=$2}
    /Non-2xx/ {bad=$NF}
    END {printf "%s %s %s %s", r, p50, p99, (bad == "" ? 0 : bad)}' "$file.wrk")"
  read -r r p50 p99 bad <<<"$out"
  read -r user sys <"$file.time"
  cpu="$(awk -v u="$user" -v s="$sys" -v d="$duration" 'BEGIN {printf "%.0f%%", 100 * (u + s) / d}')"
  rps[$name]="$r"
  local note=""
  [ "$bad" != 0 ] && note="  ($bad non-2xx answers)"
  rows+=("$(printf '%-30s %10s %9s %9s %8s %9s%s' "$name" "$r" "$p50" "$p99" "@RATIO:$name" "$cpu" "$note")")
}

ours() { case_ "$1" "$2" "$server" cherrypy PORT "$work/$3.conf"; }
cherrypy() { case_ "$1" "$2" "$python" bench/cherrypy_app.py "$work/$3.conf" PORT; }

# ---- the cases --------------------------------------------------------------------------
# Main table: the same "read a value from the session" request, one session cookie for all
# connections (so this crate's implicit locking serialises them, as CherryPy's does).
case_ bare /read "$server" bare PORT
ours ours-ram /read ram
ours ours-file /read file
ours ours-memcached /read memcached
ours ours-redis /read redis
case_ actix-session-cookie /read "$server" actix-session-cookie PORT
case_ actix-session-redis /read "$server" actix-session-redis PORT "redis://127.0.0.1:$redis_port/1"
cherrypy cherrypy-ram /read cherrypy-ram
cherrypy cherrypy-file /read cherrypy-file
main_rows=("${rows[@]}")
rows=()

# One session, a handler that takes 5 ms: the cost of handing the lock over.
ours one-session-5ms/ours-ram /slow ram
ours one-session-5ms/ours-file /slow file
ours one-session-5ms/ours-redis /slow redis
cherrypy one-session-5ms/cherrypy-ram /slow cherrypy-ram
cherrypy one-session-5ms/cherrypy-file /slow cherrypy-file
slow_rows=("${rows[@]}")
rows=()

# A request that writes the session.
ours write/ours-ram /write ram
ours write/ours-file /write file
ours write/ours-redis /write redis
case_ write/actix-session-cookie /write "$server" actix-session-cookie PORT
case_ write/actix-session-redis /write "$server" actix-session-redis PORT "redis://127.0.0.1:$redis_port/1"
cherrypy write/cherrypy-ram /write cherrypy-ram
cherrypy write/cherrypy-file /write cherrypy-file
write_rows=("${rows[@]}")

# ---- the report --------------------------------------------------------------------------
ratio() { # ratio A B: A's requests/s over B's
  local a="${rps[$1]:-}" b="${rps[$2]:-}"
  if [ -z "$a" ] || [ -z "$b" ]; then echo n/a; return; fi
  awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2fx", a / b}'
}
table() { # table BASE ROWS...: the ratio column is relative to BASE
  local base="$1"
  shift
  printf '%-30s %10s %9s %9s %8s %9s\n' case "req/s" p50 p99 "ratio" "wrk CPU"
  for row in "$@"; do
    local name="${row%% *}"
    echo "${row/@RATIO:$name/$(ratio "$name" "$base")}" | sed "s/@RATIO:[^ ]*/ n\/a/"
  done
}

report() {
  echo "# bench/run.sh: $duration s per case, $connections connections, wrk -t1; one worker per server"
  echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)), $(rustc --version)"
  echo
  echo "## Read a session value (ratio: to bare actix-web)"
  table bare "${main_rows[@]}"
  echo
  echo "## One session, 5 ms handler, $connections connections (ratio: to this crate, RAM)"
  table one-session-5ms/ours-ram "${slow_rows[@]}"
  echo
  echo "## Write the session (ratio: to this crate, RAM)"
  table write/ours-ram "${write_rows[@]}"
  echo
  echo "## Targets"
  echo "RAM store / bare actix-web:               $(ratio ours-ram bare)   (target >= 0.85x)"
  echo "RAM store / actix-session cookie store:   $(ratio ours-ram actix-session-cookie)   (target >= 1.0x)"
  echo "Redis store / actix-session Redis store:  $(ratio ours-redis actix-session-redis)   (target >= 0.9x)"
  echo "RAM store / CherryPy RAM sessions:        $(ratio ours-ram cherrypy-ram)   (target >= 50x)"
  echo "file store / CherryPy file sessions:      $(ratio ours-file cherrypy-file)   (target >= 20x)"
  echo "one session, 5 ms handler: this crate RAM ${rps[one-session-5ms/ours-ram]:-n/a} req/s, file ${rps[one-session-5ms/ours-file]:-n/a} req/s (16 queued requests in 16 x 5 ms = 200 req/s); CherryPy file ${rps[one-session-5ms/cherrypy-file]:-n/a} req/s"
}

report | tee "$work/report.txt"
if [ "$save" = 1 ] && [ "$smoke" = 0 ]; then
  mkdir -p bench/results
  out="bench/results/$(date -u +%Y-%m-%d)-$(hostname -s).txt"
  {
    cat "$work/report.txt"
    echo
    echo "## Machine"
    echo "kernel: $(uname -srm)"
    echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "wrk: $(wrk --version 2>&1 | head -1)"
    echo "redis-server: $(redis-server --version)"
    echo "memcached: $(memcached --version)"
    echo
    echo "## Raw wrk output"
    cat "$raw"
  } >"$out"
  echo "saved $out"
fi
if [ "$smoke" = 1 ]; then
  # The smoke run fails if any case produced no number.
  ! grep -q ' n/a ' <(printf '%s\n' "${main_rows[@]}" "${slow_rows[@]}" "${write_rows[@]}")
fi
