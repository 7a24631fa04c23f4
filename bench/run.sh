#!/usr/bin/env bash
# Runs ftpkit's benchmark in one command on a fresh machine (as root):
# installs the peers (curl, lftp, Python's ftplib is built in), builds ftpkit
# and the peer drivers in release mode, starts the loopback servers, and
# prints a Markdown report with every peer's figures as ratios to ftpkit's.
# Settings: see bench/run.py (BENCH_SIZE_MB, BENCH_REPS, BENCH_SMALL, BENCH_LIST, BENCH_ONLY).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in lftp curl; do
    if ! command -v "$tool" >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool" >/dev/null
    fi
done
cargo build --release -q -p ftpkit-cli
cargo build --release -q -p ftpkit --example get_many --example parse_rate
cargo build --release -q -p ftpkit --features tokio --example async_transfer
cargo build --release -q --manifest-path bench/peers/Cargo.toml
# The servers' files live on tmpfs, so that neither side waits for the disk:
# the figures are the protocol's and the clients', not the disk's.
BENCH_DIR="${BENCH_DIR:-/dev/shm/ftpkit-bench}"
bash scripts/interop-servers.sh install
# The interop servers hold the same ports unless BENCH's are moved with
# FTPKIT_INTEROP_PORT_OFFSET (e.g. 1000): then both sets run side by side.
if [ "${FTPKIT_INTEROP_PORT_OFFSET:-0}" = 0 ]; then
    bash scripts/interop-servers.sh stop >/dev/null 2>&1 || true
fi
FTPKIT_INTEROP_DIR="$BENCH_DIR" bash scripts/interop-servers.sh stop >/dev/null 2>&1 || true
export FTPKIT_INTEROP_DIR="$BENCH_DIR"
bash scripts/interop-servers.sh start
python3 bench/run.py
