#!/usr/bin/env bash
# Set up and run the whole test suite on a fresh machine (what CI runs).
#   - system packages the tests use: Prometheus and promtool (Debian package `prometheus`);
#   - a virtualenv in .venv with wirewatch and its test extras, from the pinned constraints;
#   - pytest over tests/ (unit, integration on the embedded broker, deployment checks).
# Extra arguments go to pytest, e.g. `scripts/test.sh -m "not integration"`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing the Debian package prometheus (promtool and the server)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    # Debian starts the service on install; the tests start their own on 127.0.0.1.
    (systemctl stop prometheus 2>/dev/null || service prometheus stop 2>/dev/null || pkill -x prometheus) >/dev/null 2>&1 || true
  else
    echo "test.sh: promtool not found; install the Debian package 'prometheus' (as root: apt-get install prometheus)" >&2
  fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c constraints.txt -e '.[test]'
exec .venv/bin/python -m pytest "$@"
