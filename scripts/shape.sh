#!/usr/bin/env bash
# The shape of the drivers: code lines of the blocking and the tokio driver
# (the pools' driver halves included when they live in the driver folders)
# and the share of the blocking driver's code lines that have a
# token-for-token twin in the tokio one. See scripts/shape.py.
set -euo pipefail
cd "$(dirname "$0")/.."
async_dir=ftpkit/src/tokio
[ -d "$async_dir" ] || async_dir=ftpkit/src/nonblocking
python3 scripts/shape.py ftpkit/src/blocking "$async_dir" "$@"
# No import circle among the library's files, the drivers' folders
# included (see scripts/imports.py): any circle fails.
python3 scripts/imports.py ftpkit/src
