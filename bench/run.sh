#!/usr/bin/env bash
# Side-by-side HTTP benchmark, one run, ratios: bare actix-web, this crate on every store,
# actix-session (cookie, Redis) and CherryPy 18.10 (RAM, file), all answering the same
# requests (examples/bench_server.rs, bench/cherrypy_app.py), driven by wrk; then the RAM
# store's memory per session (examples/ram_rss.rs). See bench/README.md.
#
#   bench/run.sh                   # 3 rounds of 5 s per case, 16 connections, 1,000 sessions
#   bench/run.sh --save            # the same, and writes bench/results/<date>-<commit>.txt
#   bench/run.sh --save --micro    # also the criterion micro-benchmarks (cargo bench)
#   bench/run.sh --smoke           # 1 s per case, 4 connections, debug build: does it all run?
#   bench/run.sh --only 'redis'    # only the cases whose name matches (e.g. '^read/', 'file')
#   bench/run.sh --duration 10 --rounds 5 --connections 32 --sessions 5000 --contention 16
#   bench/run.sh --max-other 15 --retries 4  # extra rounds for a case that shared the machine
#
# A case whose server (or its Redis/memcached) does not start, or that cannot make a
# session, is reported as "n/a (reason)" and the run goes on. With --smoke the exit status
# is 1 when any case is n/a or had a non-2xx answer or a socket error.
set -euo pipefail
cd "$(dirname "$0")/.."
command_line="bench/run.sh $*"

duration=5 rounds=3 max_other=15 retries=4 connections=16 contention=16 sessions=1000 memory_sessions=1000000
smoke=0 save=0 micro=0 only='' profile=release release=0
usage() {
  echo "usage: $0 [--smoke] [--save] [--micro] [--only REGEX] [--duration S] [--rounds N]" \
    "[--max-other PERCENT] [--retries N] [--connections N] [--contention N] [--sessions N] [--memory-sessions N] [--release]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke)
      smoke=1 duration=1 rounds=1 retries=0 connections=4 contention=4 sessions=20 memory_sessions=10000
      profile=debug ;;
    --release) release=1 ;;
    --save) save=1 ;;
    --micro) micro=1 ;;
    --only) only="${2:?}"; shift ;;
    --duration) duration="${2:?}"; shift ;;
    --rounds) rounds="${2:?}"; shift ;;
    --max-other) max_other="${2:?}"; shift ;;
    --retries) retries="${2:?}"; shift ;;
    --connections) connections="${2:?}"; shift ;;
    --contention) contention="${2:?}"; shift ;;
    --sessions) sessions="${2:?}"; shift ;;
    --memory-sessions) memory_sessions="${2:?}"; shift ;;
    *) usage ;;
  esac
  shift
done
[ "$release" = 1 ] && profile=release

# ---- what the run needs ------------------------------------------------------------------
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v redis-server >/dev/null || need+=(redis-server)
command -v memcached >/dev/null || need+=(memcached)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bench/run.sh: installing ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "bench/run.sh: install ${need[*]}" >&2
    exit 1
  fi
fi
compat/setup.sh
python=compat/.venv/bin/python

# The debug build of the smoke run is the one `cargo test --all-features` already made.
build=(cargo build --quiet --all-features --examples)
[ "$profile" = release ] && build+=(--release)
echo "bench/run.sh: ${build[*]}" >&2
"${build[@]}"
examples="${CARGO_TARGET_DIR:-target}/$profile/examples"
bench_server="$examples/bench_server"

work="$(mktemp -d -t actix-cherrypy-bench.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${BENCH_KEEP:-}" ]; then echo "bench/run.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_port PORT PID: until something listens on PORT (up to 30 s), or PID has died.
wait_port() {
  for _ in $(seq 300); do
    (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
# last_line FILE: the file's last non-empty line, for "n/a (reason)".
last_line() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -1 | cut -c1-150; }
# ticks PID...: user + system CPU time of these processes (all their threads), in clock ticks.
ticks() {
  local total=0 pid t
  for pid in "$@"; do
    t="$(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$pid/stat" 2>/dev/null)" || t=0
    total=$((total + ${t:-0}))
  done
  echo "$total"
}
hz="$(getconf CLK_TCK)"
# busy_ticks: CPU time the whole machine spent busy (steal included: a VM's host taking the
# CPU away disturbs a case as much as another process does), in clock ticks.
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
load_at_start="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- Redis and memcached, each on a free port, for the servers that need them ---------------
declare -A backend_pid backend_down
start_backend() { # start_backend NAME PORT COMMAND...
  local name="$1" port="$2"
  shift 2
  "$@" >"$work/$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  if wait_port "$port" "$pid"; then
    backend_pid[$name]="$pid"
  else
    backend_down[$name]="$name did not start: $(last_line "$work/$name.log")"
    kill -KILL "$pid" 2>/dev/null || true
  fi
}
redis_port="$(free_port)"
start_backend redis "$redis_port" \
  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no
memcached_port="$(free_port)"
mc_user=()
[ "$(id -u)" = 0 ] && mc_user=(-u root)
start_backend memcached "$memcached_port" \
  memcached -l 127.0.0.1 -p "$memcached_port" -U 0 -m 1024 "${mc_user[@]}"

# ---- configs: this crate and CherryPy read the same kind of file ----------------------------
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
tools.sessions.url = \"redis://127.0.0.1:$redis_port/0\"
"
conf cherrypy-ram ''
conf cherrypy-file "tools.sessions.storage_type = \"file\"
tools.sessions.storage_path = \"$work/cherrypy-files\"
"

# ---- the servers ----------------------------------------------------------------------------
# All run at once (an idle server costs nothing), so each table's cases can alternate
# between them round after round: drift on a shared machine then hits every server alike.
# Each has one worker: one actix-web thread, or one CherryPy process whose pool has a
# thread per connection (its handlers block; under the GIL it is one core too).
threads=$((connections > contention ? connections : contention))
declare -A server_cmd server_needs server_fake server_pid server_port server_down
servers=()
# server NAME NEEDS FAKE COMMAND...: NEEDS is "redis", "memcached" or "-"; FAKE is --fake
# when it sets no cookie (bare actix-web); the word PORT in COMMAND becomes its port.
server() {
  local name="$1"
  servers+=("$name")
  server_needs[$name]="$2" server_fake[$name]="$3"
  shift 3
  server_cmd[$name]="$(printf '%q ' "$@")"
}
server bare - --fake "$bench_server" bare PORT
server ours-ram - '' "$bench_server" cherrypy PORT "$work/ram.conf"
server ours-file - '' "$bench_server" cherrypy PORT "$work/file.conf"
server ours-memcached memcached '' "$bench_server" cherrypy PORT "$work/memcached.conf"
server ours-redis redis '' "$bench_server" cherrypy PORT "$work/redis.conf"
server actix-session-cookie - '' "$bench_server" actix-session-cookie PORT
server actix-session-redis redis '' "$bench_server" actix-session-redis PORT \
  "redis://127.0.0.1:$redis_port/1"
server cherrypy-ram - '' "$python" bench/cherrypy_app.py "$work/cherrypy-ram.conf" PORT "$threads"
server cherrypy-file - '' "$python" bench/cherrypy_app.py "$work/cherrypy-file.conf" PORT "$threads"

# The cases of each table: TABLE PATH POOL CONNECTIONS SERVERS ("pool": $sessions sessions
# taken in turn, "one": one session). actix-session and bare actix-web have no locks, so
# their one-session requests run side by side: no hand-over to measure in alone/slow.
locking_servers="ours-ram ours-file ours-memcached ours-redis cherrypy-ram cherrypy-file"
tables=(
  "read /read pool $connections ${servers[*]}"
  "one /read one $contention ${servers[*]}"
  "alone /slow one 1 $locking_servers"
  "slow /slow one $contention $locking_servers"
  "write /write pool $connections ${servers[*]}"
)
selected() { [ -z "$only" ] || [[ "$1" =~ $only ]]; }

# start_server NAME: starts it on a free port and makes its sessions, or says why not.
start_server() {
  local name="$1" need="${server_needs[$1]}" port
  if [ "$need" != - ] && [ -n "${backend_down[$need]:-}" ]; then
    server_down[$name]="${backend_down[$need]}"
    return
  fi
  port="$(free_port)"
  eval "local words=(${server_cmd[$name]})"
  local cmd=() word
  for word in "${words[@]}"; do
    if [ "$word" = PORT ]; then cmd+=("$port"); else cmd+=("$word"); fi
  done
  "${cmd[@]}" >"$work/$name.log" 2>&1 &
  server_pid[$name]=$!
  server_port[$name]="$port"
  pids+=("$!")
  if ! wait_port "$port" "${server_pid[$name]}"; then
    server_down[$name]="server did not start: $(last_line "$work/$name.log")"
    return
  fi
  # sessions.py writes the wrk scripts: a pool of sessions, and a single one.
  if ! "$python" bench/sessions.py "$port" "$sessions" "$work/$name-pool.lua" \
      ${server_fake[$name]} 2>"$work/$name.sessions" ||
    ! "$python" bench/sessions.py "$port" 1 "$work/$name-one.lua" \
      ${server_fake[$name]} 2>>"$work/$name.sessions"; then
    server_down[$name]="no session: $(last_line "$work/$name.sessions")"
  fi
}

# ---- one case: wrk against a running server ---------------------------------------------------
raw="$work/raw.txt"
: >"$raw"
# Per case and round (key "table/server#round"), then per case (its least disturbed round).
declare -A rps reqs p50 p99 max server_cpu store_cpu wrk_cpu other_cpu us_per_req errors notes na
declare -A table_cases

# measure TABLE SERVER PATH POOL CONNECTIONS ROUND
measure() {
  local table="$1" name="$2" path="$3" pool="$4" conns="$5" round="$6"
  local key="$table/$name#$round" pid="${server_pid[$name]:-}"
  if [ -n "${server_down[$name]:-}" ]; then
    na[$key]="${server_down[$name]}"
    return 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    na[$key]="server died: $(last_line "$work/$name.log")"
    return 0
  fi
  local need="${server_needs[$name]}" backends=()
  [ "$need" = - ] || backends=("${backend_pid[$need]}")
  local out="$work/$table-$name-$round.wrk" s0 b0 m0 s1 b1 m1 TIMEFORMAT='%U %S'
  s0="$(ticks "$pid")" b0="$(ticks "${backends[@]}")" m0="$(busy_ticks)"
  if ! { time wrk -t1 -c"$conns" -d"${duration}s" --timeout 10s --latency \
      -s "$work/$name-$pool.lua" "http://127.0.0.1:${server_port[$name]}$path" >"$out" 2>&1; } \
      2>"$out.time"; then
    na[$key]="wrk failed: $(last_line "$out")"
    return 0
  fi
  s1="$(ticks "$pid")" b1="$(ticks "${backends[@]}")" m1="$(busy_ticks)"
  { echo "=== $table/$name, round $round: GET $path, $conns connections, $duration s"
    cat "$out"; echo; } >>"$raw"
  local r n a b m bad sock user sys
  read -r r n a b m bad sock <<<"$(awk '
    function ms(v) {
      if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0
      if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v + 0
    }
    / requests in / { n = $1 }
    /^Requests\/sec:/ { r = $2 }
    /^ +Latency +[0-9]/ { m = ms($4) }
    /^ +50% / { a = ms($2) }
    /^ +99% / { b = ms($2) }
    /Non-2xx/ { bad = $NF }
    /Socket errors:/ { gsub(/,/, ""); sock = $4 + $6 + $8 + $10 }
    END { printf "%s %d %.2f %.2f %.2f %d %d", (r == "" ? "-" : r), n, a, b, m, bad, sock }
  ' "$out")"
  read -r user sys <"$out.time"
  if [ "$r" = - ] || [ "$n" = 0 ]; then
    na[$key]="no result from wrk: $(last_line "$out")"
    return 0
  fi
  rps[$key]="$r" reqs[$key]="$n" p50[$key]="$a" p99[$key]="$b" max[$key]="$m"
  local pct='BEGIN {printf "%.0f%%", 100 * t / d}'
  server_cpu[$key]="$(awk -v t="$(((s1 - s0)))" -v d="$((hz * duration))" "$pct")"
  us_per_req[$key]="$(awk -v t=$((s1 - s0)) -v hz="$hz" -v n="$n" 'BEGIN {printf "%.1f", 1e6 * t / hz / n}')"
  store_cpu[$key]=-
  [ ${#backends[@]} -eq 0 ] ||
    store_cpu[$key]="$(awk -v t=$((b1 - b0)) -v d="$((hz * duration))" "$pct")"
  wrk_cpu[$key]="$(awk -v t="$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')" -v d="$duration" "$pct")"
  # Whatever else the machine did meanwhile: other processes, and kernel work no process is
  # charged for (some of it this case's own network interrupts).
  other_cpu[$key]="$(awk -v m=$((m1 - m0)) -v s=$((s1 - s0)) -v b=$((b1 - b0)) -v u="$user" \
    -v y="$sys" -v hz="$hz" -v d="$duration" \
    'BEGIN {o = m - s - b - (u + y) * hz; printf "%.0f%%", (o < 0 ? 0 : 100 * o / hz / d)}')"
  local note=''
  [ "$bad" -eq 0 ] || note+="$bad non-2xx answers; "
  [ "$sock" -eq 0 ] || note+="$sock socket errors; "
  errors[$key]="${note%; }"
}

# keep_best CASE ROUNDS: the case's result is its round least disturbed by other work on
# the machine (the lowest "other" CPU); a round that failed makes the case n/a. Every case
# is chosen by the same rule, and the notes list each round's requests/s and "other".
keep_best() {
  local case="$1" rounds="$2" round key pick
  for round in $(seq "$rounds"); do
    if [ -n "${na[$case#$round]:-}" ]; then
      na[$case]="${na[$case#$round]}"
      return
    fi
  done
  pick="$(for round in $(seq "$rounds"); do echo "${other_cpu[$case#$round]%\%} $round"; done |
    sort -g | head -1 | cut -d' ' -f2)"
  key="$case#$pick"
  rps[$case]="${rps[$key]}" reqs[$case]="${reqs[$key]}" p50[$case]="${p50[$key]}"
  p99[$case]="${p99[$key]}" max[$case]="${max[$key]}" server_cpu[$case]="${server_cpu[$key]}"
  store_cpu[$case]="${store_cpu[$key]}" wrk_cpu[$case]="${wrk_cpu[$key]}"
  other_cpu[$case]="${other_cpu[$key]}" us_per_req[$case]="${us_per_req[$key]}"
  local all=''
  for round in $(seq "$rounds"); do
    [ -z "${errors[$case#$round]:-}" ] || all+="round $round: ${errors[$case#$round]}; "
  done
  errors[$case]="${all%; }"
  notes[$case]="${errors[$case]}"
  [ "$rounds" -eq 1 ] || notes[$case]+="${notes[$case]:+; }rounds: $(
    for round in $(seq "$rounds"); do
      printf '%.0f/%s ' "${rps[$case#$round]}" "${other_cpu[$case#$round]}"
    done | sed 's/ $//')"
}

# ---- the run: table by table, round by round, every server in turn ---------------------------
for name in "${servers[@]}"; do
  wanted=0
  for spec in "${tables[@]}"; do
    read -r table _ _ _ names <<<"$spec"
    [[ " $names " == *" $name "* ]] && selected "$table/$name" && wanted=1
  done
  [ "$wanted" = 0 ] || start_server "$name"
done
for spec in "${tables[@]}"; do
  read -r table path pool conns names <<<"$spec"
  order=()
  for name in $names; do selected "$table/$name" && order+=("$name"); done
  [ ${#order[@]} -gt 0 ] || continue
  table_cases[$table]="$(printf "$table/%s " "${order[@]}")"
  for round in $(seq "$rounds"); do
    echo "bench/run.sh: $table, round $round of $rounds" >&2
    # Every other round in reverse order, so no server always runs first or last.
    if [ $((round % 2)) = 0 ]; then
      for ((i = ${#order[@]} - 1; i >= 0; i--)); do
        measure "$table" "${order[i]}" "$path" "$pool" "$conns" "$round"
      done
    else
      for name in "${order[@]}"; do measure "$table" "$name" "$path" "$pool" "$conns" "$round"; done
    fi
  done
  # A case whose every round shared the machine (other > $max_other %) gets up to $retries
  # more rounds, until one is clean; if none is, its notes say so.
  for name in "${order[@]}"; do
    total="$rounds"
    keep_best "$table/$name" "$total"
    while [ -z "${na[$table/$name]:-}" ] && [ "${other_cpu[$table/$name]%\%}" -gt "$max_other" ] &&
      [ "$total" -lt $((rounds + retries)) ]; do
      total=$((total + 1))
      echo "bench/run.sh: $table/$name, extra round $total (other work on the machine)" >&2
      measure "$table" "$name" "$path" "$pool" "$conns" "$total"
      keep_best "$table/$name" "$total"
    done
    if [ -z "${na[$table/$name]:-}" ] && [ "${other_cpu[$table/$name]%\%}" -gt "$max_other" ]; then
      notes[$table/$name]="DISTURBED (other > $max_other % in every round); ${notes[$table/$name]}"
    fi
  done
done
for name in "${servers[@]}"; do
  [ -n "${server_pid[$name]:-}" ] && kill "${server_pid[$name]}" 2>/dev/null || true
done

# ---- memory: the RAM store's resident set per session --------------------------------------
memory_out="$work/memory.txt"
if selected memory; then
  if [ -x "$examples/ram_rss" ]; then
    "$examples/ram_rss" "$memory_sessions" >"$memory_out" 2>&1 ||
      echo "n/a (ram_rss failed: $(last_line "$memory_out"))" >>"$memory_out"
  else
    echo "n/a (no examples/ram_rss)" >"$memory_out"
  fi
fi

# ---- the report ------------------------------------------------------------------------------
ratio() { # ratio A B: A's requests/s over B's
  local a="${rps[$1]:-}" b="${rps[$2]:-}"
  if [ -z "$a" ] || [ -z "$b" ]; then echo n/a; return; fi
  awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2fx", a / b}'
}
cpu_ratio() { # cpu_ratio A B: B's server CPU per request over A's
  local a="${us_per_req[$1]:-}" b="${us_per_req[$2]:-}"
  if [ -z "$a" ] || [ -z "$b" ]; then echo n/a; return; fi
  awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2fx", b / a}'
}
table() { # table NAME BASE: rows of TABLE, ratios to case BASE
  local base="$2" name
  printf '%-28s %10s %7s %7s %6s %7s %6s %6s %6s %6s %6s  %s\n' case "req/s" "p50 ms" \
    "p99 ms" ratio "us/req" "cpu" server store wrk other notes
  for name in ${table_cases[$1]:-}; do
    if [ -n "${na[$name]:-}" ]; then
      printf '%-28s %10s   (%s)\n' "$name" n/a "${na[$name]}"
    else
      printf '%-28s %10s %7s %7s %6s %7s %6s %6s %6s %6s %6s  %s\n' "$name" "${rps[$name]}" \
        "${p50[$name]}" "${p99[$name]}" "$(ratio "$name" "$base")" "${us_per_req[$name]}" \
        "$(cpu_ratio "$name" "$base")" "${server_cpu[$name]}" "${store_cpu[$name]}" \
        "${wrk_cpu[$name]}" "${other_cpu[$name]}" "${notes[$name]}"
    fi
  done
}
# ms PER_SECOND [TIMES]: TIMES requests at PER_SECOND requests/s, in ms.
ms() { awk -v r="$1" -v n="${2:-1}" 'BEGIN {printf "%.2f", 1000 * n / r}'; }
slow_table() {
  local name alone
  printf '%-28s %10s %7s %7s %8s %9s %10s %8s %6s  %s\n' case "req/s" "p50 ms" "p99 ms" \
    "max ms" "alone ms" "$contention queued" "ideal" "ratio" notes
  for name in ${table_cases[slow]:-}; do
    alone="alone/${name#slow/}"
    if [ -n "${na[$name]:-}" ] || [ -n "${na[$alone]:-}" ] || [ -z "${rps[$alone]:-}" ]; then
      printf '%-28s %10s   (%s)\n' "$name" n/a "${na[$name]:-${na[$alone]:-no alone case}}"
      continue
    fi
    # One request at a time holds the session, so $contention queued requests take
    # $contention / (req/s); ideally no more than $contention times the request alone.
    printf '%-28s %10s %7s %7s %8s %9s %10s %8s %6s  %s\n' "$name" "${rps[$name]}" \
      "${p50[$name]}" "${p99[$name]}" "${max[$name]}" "$(ms "${rps[$alone]}")" \
      "$(ms "${rps[$name]}" "$contention")" "$(ms "${rps[$alone]}" "$contention")" \
      "$(awk -v q="${rps[$name]}" -v a="${rps[$alone]}" 'BEGIN {printf "%.2fx", a / q}')" \
      "${notes[$name]}${notes[$alone]:+ (alone: ${notes[$alone]})}"
  done
}
# verdict VALUE OP BOUND: met / NOT met / n/a
verdict() {
  awk -v v="${1%x}" -v op="$2" -v b="$3" 'BEGIN {
    if (v == "n/a" || v == "") print "n/a"
    else if ((op == ">=" && v + 0 >= b) || (op == "<=" && v + 0 <= b)) print "met"
    else print "NOT met" }'
}
# target LABEL A B MIN: requests/s of A over B against a lower bound (and the CPU ratio).
target() {
  local r c
  r="$(ratio "$2" "$3")" c="$(cpu_ratio "$2" "$3")"
  printf '%-42s %8s   target >= %-6s %-8s (server CPU per request: %s)\n' "$1" "$r" "$4x" \
    "$(verdict "$r" '>=' "$4")" "$c"
}

machine() {
  echo "date:        $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit:      $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(
    [ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] ||
      echo ' (with uncommitted changes)')"
  echo "cpu:         $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "memory:      $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel:      $(uname -srm)"
  echo "rustc:       $(rustc --version), $profile build"
  echo "wrk:         $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "redis:       $(redis-server --version 2>&1 | cut -d' ' -f1-3)"
  echo "memcached:   $(memcached --version 2>&1)"
  echo "python:      $("$python" -c 'import sys, cherrypy; print(sys.version.split()[0], "CherryPy", cherrypy.__version__)')"
  echo "session dir: $(df -T "$work" | awk 'NR == 2 {print $2}') ($work)"
  echo "load avg:    $load_at_start at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
  local changed
  changed="$(git status --porcelain --untracked-files=no 2>/dev/null | awk '{print $2}' | paste -sd' ')"
  [ -z "$changed" ] || echo "uncommitted: $changed"
}

report() {
  [ "$smoke" = 0 ] ||
    echo "# SMOKE RUN: a debug build for 1 s per case, to check that everything runs; its numbers mean nothing."
  echo "# bench/run.sh: $rounds round(s) of $duration s per case, up to $retries more while other > $max_other %;"
  echo "# each case: its least disturbed round; wrk -t1;"
  echo "# $connections connections over $sessions sessions, or $contention on one session; one worker per server."
  echo "# ratio: req/s over the base case's; us/req: server CPU per request; cpu: base's us/req over this one's;"
  echo "# server, store, wrk, other: CPU in % of one core (server process, its Redis or memcached, the load"
  echo "# generator, everything else on the machine); rounds: req/s/other of each round."
  echo
  echo "## Read a session value, each request on the next of $sessions sessions (base: bare actix-web)"
  table read read/bare
  echo
  echo "## Read a session value, every request on one session, $contention connections (base: bare actix-web)"
  table one one/bare
  echo
  echo "## One session, a 5 ms handler: the lock hand-over. \"alone ms\": a request at a time"
  echo "## (1 connection, client round trip included); \"$contention queued\": ms for $contention requests"
  echo "## queued on the session ($contention / req/s); ideal: $contention x alone; ratio: queued / ideal"
  slow_table
  echo
  echo "## Write the session (an increment), each request on the next of $sessions sessions (base: bare actix-web)"
  table write write/bare
  echo
  if [ -s "$memory_out" ]; then
    echo "## RAM store memory ($memory_sessions sessions, examples/ram_rss)"
    cat "$memory_out"
    echo
  fi
  echo "## Targets"
  target "RAM store / bare actix-web" read/ours-ram read/bare 0.9
  target "RAM store / bare actix-web, one session" one/ours-ram one/bare 0.9
  target "RAM store / actix-session cookie store" read/ours-ram read/actix-session-cookie 1.0
  target "Redis store / actix-session Redis store" read/ours-redis read/actix-session-redis 1.0
  # One session from many connections was 0.04x bare actix-web (a server round trip per
  # lock, load and save); the local hand-over of the lock and the session aims at 4x that.
  target "Redis store / bare actix-web, one session" one/ours-redis one/bare 0.16
  target "memcached / bare actix-web, one session" one/ours-memcached one/bare 0.16
  target "memcached store / Redis store" read/ours-memcached read/ours-redis 0.83
  target "RAM store / CherryPy RAM sessions" read/ours-ram read/cherrypy-ram 50
  target "file store / CherryPy file sessions" read/ours-file read/cherrypy-file 20
  local name
  for name in $locking_servers; do
    [ -n "${rps[slow/$name]:-}" ] && [ -n "${rps[alone/$name]:-}" ] || continue
    printf '%-42s %8s   target about %s ms (%d x %s ms alone), p99 %s ms\n' \
      "$contention queued on one session, $name" "$(ms "${rps[slow/$name]}" "$contention")" \
      "$(ms "${rps[alone/$name]}" "$contention")" "$contention" "$(ms "${rps[alone/$name]}")" \
      "${p99[slow/$name]}"
  done
  if [ -s "$memory_out" ]; then
    local beyond
    beyond="$(sed -n 's/.*beyond the data: *\([0-9.]*\) bytes.*/\1/p' "$memory_out" | head -1)"
    printf '%-42s %8s   target <= 300 bytes %s\n' "RAM store, bytes per session beyond its data" \
      "${beyond:-n/a}" "$(verdict "${beyond:-n/a}" '<=' 300)"
  fi
  echo
  echo "## Machine"
  machine
}

report | tee "$work/report.txt"

micro_out="$work/micro.txt"
micro_cmd=(cargo bench --quiet --all-features)
for file in benches/*.rs; do micro_cmd+=(--bench "$(basename "$file" .rs)"); done
if [ "$micro" = 1 ]; then
  echo "bench/run.sh: ${micro_cmd[*]}" >&2
  # Without criterion's comparisons with whatever ran before in target/criterion.
  "${micro_cmd[@]}" 2>&1 |
    grep -v -e '^Benchmarking' -e '^Gnuplot' -e 'change:' -e 'Performance has' \
      -e 'No change in performance' -e 'Change within noise' | tee "$micro_out" || true
fi

if [ "$save" = 1 ]; then
  mkdir -p bench/results
  out="bench/results/$(date -u +%Y-%m-%d)-$(git rev-parse --short HEAD 2>/dev/null || echo local).txt"
  [ "$smoke" = 0 ] || out="${out%.txt}-smoke.txt"
  {
    echo "# command: $command_line"
    cat "$work/report.txt"
    if [ -s "$micro_out" ]; then
      echo
      echo "## Micro-benchmarks (${micro_cmd[*]})"
      cat "$micro_out"
    fi
    echo
    echo "## Raw wrk output"
    cat "$raw"
  } >"$out"
  echo "bench/run.sh: saved $out" >&2
fi

if [ "$smoke" = 1 ]; then
  failed=0
  for spec in "${tables[@]}"; do
    read -r table _ <<<"$spec"
    for name in ${table_cases[$table]:-}; do
      if [ -n "${na[$name]:-}" ] || [ -n "${errors[$name]:-}" ]; then
        echo "bench/run.sh --smoke: $name: ${na[$name]:-${errors[$name]}}" >&2
        failed=1
      fi
    done
  done
  if grep -q '^n/a' "$memory_out" 2>/dev/null; then
    echo "bench/run.sh --smoke: memory: $(cat "$memory_out")" >&2
    failed=1
  fi
  exit "$failed"
fi
