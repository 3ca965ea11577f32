#!/bin/sh
# Applies channel files to the labgate sample agent. Run as root from the build
# directory:  cd /opt/labgate/build && sh apply-content.sh CONTENT_DIR
#
# Copies CONTENT_DIR/*.sac to /var/lib/sampleagent/content/ and syncs BEFORE
# loading them, exactly like an agent that persists an update and then
# applies it: content that crashes the driver is therefore still on disk at
# the next boot, where the daemon loads it again.
set -eu

PATH=/sbin:/usr/sbin:/bin:/usr/bin
export PATH

say() { echo "sample-agent content: $*"; }
die() { echo "sample-agent content: error: $*" >&2; exit 1; }

case "${1:-}" in
	-h|--help)
		echo "Usage: cd BUILD_DIR && sh apply-content.sh CONTENT_DIR"
		exit 0 ;;
	'') die "usage: sh apply-content.sh CONTENT_DIR" ;;
esac
src=$1
[ -d "$src" ] || die "$src is not a directory"
[ "$(id -u)" -eq 0 ] || die "must run as root"

dest=/var/lib/sampleagent/content
mkdir -p "$dest"
count=0
for file in "$src"/*.sac; do
	[ -f "$file" ] || continue
	name=${file##*/}
	cp "$file" "$dest/.$name.tmp"
	mv "$dest/.$name.tmp" "$dest/$name"
	say "stored $name"
	count=$((count + 1))
done
[ "$count" -gt 0 ] || die "no .sac channel files in $src"
sync

[ -e /proc/sampledrv/content ] || die "driver sampledrv is not loaded (is the agent installed?)"
for file in "$src"/*.sac; do
	[ -f "$file" ] || continue
	name=${file##*/}
	say "loading $name"
	cat "$dest/$name" >/proc/sampledrv/content || die "driver rejected $name (see the kernel log)"
done
say "applied $count channel files; driver: $(head -n1 /proc/sampledrv/status)"
