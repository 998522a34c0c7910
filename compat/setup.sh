#!/usr/bin/env bash
# Creates compat/.venv (git-ignored) with CherryPy 18.10.0 and the pinned packages of
# compat/requirements.txt, for compat/oracle.py. Idempotent: does nothing when the venv
# already has them. Needs Python 3.11 (the oracle's reference runtime); set PYTHON to
# choose the interpreter (default: python3, else python3.11).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
requirements="$here/requirements.txt"
stamp="$venv/.installed-requirements.txt"   # copy of requirements.txt once installed

is_py311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; }

# Already set up: a 3.11 venv that installed exactly this requirements.txt and has
# CherryPy 18.10.0.
if is_py311 "$venv/bin/python" && cmp -s "$requirements" "$stamp" &&
   "$venv/bin/python" -c 'import sys, importlib.metadata as m
sys.exit(m.version("CherryPy") != "18.10.0")' 2>/dev/null; then
  exit 0
fi

python="${PYTHON:-python3}"
if ! is_py311 "$python"; then
  if command -v python3.11 >/dev/null && is_py311 python3.11; then
    python=python3.11
  else
    echo "compat/setup.sh: the oracle needs Python 3.11; '$python' is not (set PYTHON=...)" >&2
    exit 1
  fi
fi

if ! is_py311 "$venv/bin/python"; then
  rm -rf "$venv"
  if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
    # Debian ships venv's pip bootstrap (ensurepip) separately, in python3-venv.
    rm -rf "$venv"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "compat/setup.sh: '$python -m venv' failed; installing python3-venv" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$python" -m venv "$venv"
    else
      echo "compat/setup.sh: '$python -m venv' failed; install python3-venv" >&2
      exit 1
    fi
  fi
fi

echo "compat/setup.sh: installing compat/requirements.txt into compat/.venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  -r "$requirements"
cp "$requirements" "$stamp"
