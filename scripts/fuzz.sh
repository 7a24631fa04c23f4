#!/usr/bin/env bash
# Runs every cargo-fuzz target of ftpkit for a bounded time (default 30 s
# each): the reply reader, the 227/229/257/150/213/FEAT parsers, the
# listing parsers and the URL parser. `scripts/fuzz.sh 20 url` runs only the
# targets named after the time. A crash fails the run and leaves its input under
# fuzz/artifacts/<target>/; turn it into a regression test.
#
# cargo-fuzz needs the compiler's unstable sanitizer flags. This machine has
# only the stable toolchain, so RUSTC_BOOTSTRAP=1 lets it accept them, for
# the fuzz build only; the project itself builds on stable.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked -q cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
targets="${*:-$(cargo fuzz list)}"
for target in $targets; do
    mkdir -p "fuzz/corpus/$target"
    echo "fuzz: $target for ${seconds}s"
    cargo fuzz run -O "$target" "fuzz/corpus/$target" "fuzz/corpus-seed/$target" -- \
        -max_total_time="$seconds" -print_final_stats=0 2>&1 | grep -E "^Done|ERROR|SUMMARY|panicked" || true
    # cargo fuzz exits non-zero on a crash; pipefail would hide it behind grep.
    if ls "fuzz/artifacts/$target"/crash-* >/dev/null 2>&1; then
        echo "fuzz: $target found a crash: fuzz/artifacts/$target/" >&2
        exit 1
    fi
done
