#!/usr/bin/env bash
# Usage: compat/http/run_cherrypy.sh CONFIG SCRIPT
# Runs SCRIPT (transcript.py) against real CherryPy 18 (probe_app.py) serving CONFIG
# and prints the transcript. Needs compat/setup.sh to have been run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="$here/../.venv/bin/python"
[ $# -eq 2 ] || { echo "usage: $0 CONFIG SCRIPT" >&2; exit 2; }
[ -x "$python" ] || { echo "$0: run compat/setup.sh first" >&2; exit 1; }
config="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"   # absolute: CherryPy may chdir

# A free loopback port: bind port 0 and let the OS pick. Another process could take it
# before CherryPy binds; the wait below then fails loudly rather than testing the wrong server.
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

log="$(mktemp)"
"$python" "$here/probe_app.py" "$config" "$port" >"$log" 2>&1 &
pid=$!
cleanup() {
  # SIGTERM lets the engine stop cleanly; a worker blocked on a session lock that is
  # never released keeps it from exiting, so SIGKILL after 5 s.
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

# Wait until it accepts connections (bash's /dev/tcp: no curl needed), at most 20 s.
for _ in $(seq 200); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "$0: probe_app.py exited during start-up:" >&2; cat "$log" >&2; exit 1
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    "$python" "$here/transcript.py" "http://127.0.0.1:$port" "$2"
    exit
  fi
  sleep 0.1
done
echo "$0: probe_app.py did not answer on port $port within 20 s:" >&2; cat "$log" >&2
exit 1
