#!/usr/bin/env bash
# Builds the Python package (python/, debug build: quicker, same code) into
# a virtual environment under target/ and runs its pytest suite: against
# pyftpdlib servers the tests start, and against the interop servers of
# scripts/interop-servers.sh (which must be running; in CI a missing
# server fails the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${FTPKIT_PY_VENV:-$PWD/target/pyvenv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    "maturin>=1.5,<2" pytest pyftpdlib pyopenssl cryptography
(cd python && VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" maturin develop -q)
# pytest exits 5 when it collected no test: that is a failure here too.
(cd python && "$VENV/bin/python" -m pytest -q tests "$@")
