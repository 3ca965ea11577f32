#!/bin/sh
# Applies channel files to the labgate sample agent. Run as root from the build
# directory:  cd /opt/labgate/build && sh apply-content.sh CONTENT_DIR
#
# Copies CONTENT_DIR/*.sac to /var/lib/sampleagent/content/ and syncs BEFORE
# loading them, exactly like an agent that persists an update and then
# applies it: content that crashes the driver is therefore still on disk at
# the next boot, where the daemon loads it again.
#
# How a file is stored: a channel file is written to a temporary name,
# synced, then renamed over the old one, so a power cut leaves the old file
# or the new one, never a part. A LARGE file (over STREAM_BYTES: the hash
# block lists) is streamed in place instead, chunk by chunk as an update
# server sends it, each chunk synced so that an interrupted download can
# resume, and with no second copy on a small disk. BUG (deliberate, the
# torn-file fault mode): a power cut while it streams leaves the first
# chunks under the real name, which the daemon loads at the next boot
# (content/torn; the driver trusts the file's header, see sampledrv.c).
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
STREAM_BYTES=16384
CHUNK_LINES=50
CHUNK_PAUSE_S=0.3  # an update server's pace
mkdir -p "$dest"

# Streams $1 into $2 in place, CHUNK_LINES lines at a time.
stream_in_place() {
	lines=$(wc -l <"$1")
	: >"$2"
	first=1
	while [ "$first" -le "$lines" ]; do
		last=$((first + CHUNK_LINES - 1))
		sed -n "${first},${last}p" "$1" >>"$2"
		sync
		first=$((last + 1))
		[ "$first" -gt "$lines" ] || sleep "$CHUNK_PAUSE_S" 2>/dev/null || sleep 1
	done
}

count=0
for file in "$src"/*.sac; do
	[ -f "$file" ] || continue
	name=${file##*/}
	if [ "$(wc -c <"$file")" -gt "$STREAM_BYTES" ]; then
		stream_in_place "$file" "$dest/$name"
		say "streamed $name"
	else
		cp "$file" "$dest/.$name.tmp"
		sync
		mv "$dest/.$name.tmp" "$dest/$name"
		say "stored $name"
	fi
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
