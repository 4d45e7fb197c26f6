#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs one libFuzzer binary for a few seconds from its committed seed
# corpus, so that CI keeps fuzzing a little on every run. New inputs go to
# a scratch directory (tests/fuzz/ stays as committed); a crashing input
# is kept in the current directory as crash-<name>-<hash>.
# Usage: fuzz-short.sh FUZZER SEED_DIR SECONDS
set -eu
bin=$1 seeds=$2 seconds=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=1024 \
        -artifact_prefix="$PWD/$(basename "$bin")-" "$scratch" "$seeds"
