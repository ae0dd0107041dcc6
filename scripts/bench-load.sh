#!/usr/bin/env bash
# The bounded loopback load benchmark: a fixed request count, a time bound,
# 127.0.0.1 only. Builds release binaries, then runs bench/ (see its docs).
#   scripts/bench-load.sh [--requests N] [--connections C] [--cap K] [--max-seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p sf-cli -p sf-bench
exec target/release/loadbench --sf target/release/sf "$@"
