#!/bin/sh
# Runs one libFuzzer target for a while on a copy of its seed corpus (the
# inputs it finds stay out of the tree).  Usage: run-fuzz.sh TARGET CORPUS SECONDS
set -eu
target=$1 corpus=$2 seconds=$3
# meson may hand the target relative to the build directory: fix it before cd
case "$target" in /*) ;; *) target=$(pwd)/$target ;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/lg-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
cp "$corpus"/* "$work/corpus/"
cd "$work"
# a crash leaves crash-* here; its input is printed in the log (base64 too)
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 corpus
