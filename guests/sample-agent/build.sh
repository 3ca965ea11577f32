#!/usr/bin/env bash
# Build the labgate sample agent for a guest image: compiles sampledrv.ko
# against the guest kernel's headers and assembles the build directory that
# the harness uploads to /opt/labgate/build. For aarch64 the module is
# cross-compiled (gcc-aarch64-linux-gnu) against the arm64 headers .debs,
# extracted by guests/linux/kernel-headers.sh (nothing arm64 is installed).
set -euo pipefail
umask 022

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_DIR=$(cd "$SCRIPT_DIR/../.." && pwd -P)
PROG=${0##*/}
FORMAT_VERSION=1
LOCK_WAIT_S=900

usage() {
	cat <<EOF
Usage: $PROG [--arch x86_64|aarch64] [--image-dir DIR] [--out DIR] [--force]

Builds sampledrv.ko for the kernel of a labgate guest image and assembles the
agent build directory:
  install.sh apply-content.sh health.sh sampleagentd sampledrv.ko VERSION

  --arch ARCH       guest architecture: x86_64 (default) or aarch64
  --image-dir DIR   guest image built by guests/linux/build-image.sh
                    (default: guests/linux/out/<arch>; its kernel-release is used;
                    for the debug image, out/x86_64-debug, its kernel build tree)
  --out DIR         build directory to create
                    (default: guests/sample-agent/out/<image dir name>/sample-agent-<version>,
                    e.g. out/x86_64/sample-agent-1.0)
  --force           rebuild even if the inputs did not change
  -h, --help        show this help

Must run as root on Debian 12 (installs linux-headers-<kernel-release> and
build tools with apt-get if missing; for aarch64 the cross compiler, and the
arm64 headers are downloaded and extracted, not installed). Skips the build,
printing "up to date",
when the sources, the kernel release and the headers version are unchanged.
Content sets are not built: the directories of content/ are used as is.
EOF
}

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

ARCH=x86_64
IMAGE_DIR=
OUT=
FORCE=0
while [ $# -gt 0 ]; do
	case "$1" in
		--arch) [ $# -ge 2 ] || die "--arch needs a value"; ARCH=$2; shift 2 ;;
		--arch=*) ARCH=${1#--arch=}; shift ;;
		--image-dir) [ $# -ge 2 ] || die "--image-dir needs a value"; IMAGE_DIR=$2; shift 2 ;;
		--image-dir=*) IMAGE_DIR=${1#--image-dir=}; shift ;;
		--out) [ $# -ge 2 ] || die "--out needs a value"; OUT=$2; shift 2 ;;
		--out=*) OUT=${1#--out=}; shift ;;
		--force) FORCE=1; shift ;;
		-h|--help) usage; exit 0 ;;
		*) usage >&2; die "unknown argument: $1" ;;
	esac
done

case "$ARCH" in
	x86_64) KBUILD_ARCH=x86_64; CROSS=0 ;;
	aarch64) KBUILD_ARCH=arm64; CROSS=1 ;;
	*) die "unsupported --arch '$ARCH' (supported: x86_64, aarch64)" ;;
esac

VERSION=$(cat "$SCRIPT_DIR/VERSION")
IMAGE_DIR=${IMAGE_DIR:-$REPO_DIR/guests/linux/out/$ARCH}
[ -s "$IMAGE_DIR/kernel-release" ] ||
	die "$IMAGE_DIR/kernel-release not found: build the guest image first (guests/linux/build-image.sh --arch $ARCH)"
KREL=$(head -n1 "$IMAGE_DIR/kernel-release")
[[ "$KREL" =~ ^[0-9][A-Za-z0-9.+_-]*$ ]] || die "bad kernel release '$KREL' in $IMAGE_DIR/kernel-release"
HEADERS_PKG=linux-headers-$KREL
KDIR=/usr/src/$HEADERS_PKG
# A kernel built from source (the debug guest, guests/linux/debug-kernel.sh):
# its own build tree instead of a headers package.
OWN_KBUILD=
if [ -s "$IMAGE_DIR/kbuild-dir" ]; then
	OWN_KBUILD=$(head -n1 "$IMAGE_DIR/kbuild-dir")
	[ -d "$OWN_KBUILD" ] ||
		die "the kernel build tree $OWN_KBUILD of $IMAGE_DIR is gone: rebuild the image (guests/linux/build-image.sh --kernel debug)"
	KDIR=$OWN_KBUILD
fi
# Cross builds: the headers extracted by kernel-headers.sh (kept in its cache).
KHEADERS=$REPO_DIR/guests/linux/kernel-headers.sh
KCACHE=${LABGATE_CACHE_DIR:-$REPO_DIR/guests/linux/out/.cache}

# out/<image directory's name>: out/x86_64, out/x86_64-debug, ...
OUT=${OUT:-$SCRIPT_DIR/out/$(basename "$IMAGE_DIR")/sample-agent-$VERSION}
mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd -P)/$(basename "$OUT")
OUT_PARENT=$(dirname "$OUT")
STAMP_FILE=$OUT_PARENT/.$(basename "$OUT").inputs.sha256
ARTIFACTS="install.sh apply-content.sh health.sh sampleagentd sampledrv.ko VERSION"

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}
headers_version() {
	if [ -n "$OWN_KBUILD" ]; then
		echo "kbuild $OWN_KBUILD $(sha256sum <"$OWN_KBUILD/Module.symvers" 2>/dev/null | cut -c1-16)"
		return
	fi
	if [ "$CROSS" -eq 1 ]; then
		cat "$KCACHE/headers/$KREL/headers.version" 2>/dev/null || echo missing
		return
	fi
	pkg_installed "$HEADERS_PKG" && dpkg-query -W -f='${Version}' "$HEADERS_PKG" || echo missing
}

# Sources: everything under guests/sample-agent/ except out/ (content sets
# included: they are not part of the build directory, but a change there is
# cheap to rebuild and keeps the rule simple).
stamp() {
	{
		echo "sample-agent format $FORMAT_VERSION arch $ARCH kernel $KREL headers $(headers_version)"
		(cd "$SCRIPT_DIR" &&
			find . -path ./out -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
	} | sha256sum | cut -d' ' -f1
}

outputs_complete() {
	local f
	for f in $ARTIFACTS; do
		[ -s "$OUT/$f" ] || return 1
	done
}

if [ "$FORCE" -eq 0 ] && outputs_complete && [ -s "$STAMP_FILE" ] &&
	[ "$(stamp)" = "$(cat "$STAMP_FILE")" ]; then
	echo "$PROG: $OUT is up to date"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die "must run as root (installs $HEADERS_PKG with apt-get)"
exec 9>"$OUT_PARENT/.build.lock"
flock -w "$LOCK_WAIT_S" 9 || die "another build in $OUT_PARENT is still running (waited ${LOCK_WAIT_S} s)"

missing=()
if [ -n "$OWN_KBUILD" ]; then
	CROSS_COMPILE=
elif [ "$CROSS" -eq 1 ]; then
	kbuild_env=$("$KHEADERS" --arch "$ARCH" --release "$KREL" --cache "$KCACHE") ||
		die "cannot prepare the $KREL headers (guests/linux/kernel-headers.sh)"
	KDIR=$(echo "$kbuild_env" | sed -n 's/^KDIR=//p')
	CROSS_COMPILE=$(echo "$kbuild_env" | sed -n 's/^CROSS_COMPILE=//p')
else
	CROSS_COMPILE=
	for pkg in "$HEADERS_PKG" make gcc libc6-dev; do
		pkg_installed "$pkg" || missing+=("$pkg")
	done
fi
if [ ${#missing[@]} -gt 0 ]; then
	if ! apt-cache show "$HEADERS_PKG" >/dev/null 2>&1; then
		log "apt-cache does not know $HEADERS_PKG: running apt-get update"
		apt-get update -q >&2 || die "apt-get update failed"
		apt-cache show "$HEADERS_PKG" >/dev/null 2>&1 ||
			die "$HEADERS_PKG is not available from the configured Debian mirrors (guest kernel $KREL too old? rebuild the image with --force)"
	fi
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
fi
[ -d "$KDIR" ] || die "$KDIR missing although $HEADERS_PKG is installed"


START_S=$(date +%s)
WORK=$(mktemp -d "$OUT_PARENT/.build.XXXXXX")
PREVIOUS=$WORK/previous-out
cleanup() {
	if [ ! -e "$OUT" ] && [ -e "$PREVIOUS" ]; then
		mv "$PREVIOUS" "$OUT" || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 0755 "$WORK"

# Build in a copy so that the source tree never holds kbuild droppings.
log "building sampledrv.ko for $KREL"
cp -R "$SCRIPT_DIR/module" "$WORK/module"
make -s -C "$KDIR" M="$WORK/module" ARCH="$KBUILD_ARCH" ${CROSS_COMPILE:+CROSS_COMPILE="$CROSS_COMPILE"} modules >"$WORK/make.log" 2>&1 || {
	cat "$WORK/make.log" >&2
	die "module build failed"
}
KO=$WORK/module/sampledrv.ko
vermagic=$(modinfo -F vermagic "$KO")
[ "${vermagic%% *}" = "$KREL" ] || die "built module has vermagic '$vermagic', expected $KREL"

B=$WORK/out
mkdir -p "$B"
install -m 0644 "$KO" "$B/sampledrv.ko"
install -m 0755 "$SCRIPT_DIR/install.sh" "$B/install.sh"
install -m 0755 "$SCRIPT_DIR/apply-content.sh" "$B/apply-content.sh"
install -m 0755 "$SCRIPT_DIR/agent/health.sh" "$B/health.sh"
install -m 0755 "$SCRIPT_DIR/agent/sampleagentd" "$B/sampleagentd"
install -m 0644 "$SCRIPT_DIR/VERSION" "$B/VERSION"
chmod 0755 "$B"
NEW_STAMP=$(stamp)

[ ! -e "$OUT" ] || mv "$OUT" "$PREVIOUS"
mv "$B" "$OUT"
echo "$NEW_STAMP" >"$STAMP_FILE.tmp"
mv "$STAMP_FILE.tmp" "$STAMP_FILE"

log "built $OUT (sample agent $VERSION, kernel $KREL) in $(( $(date +%s) - START_S )) s"
ls -l "$OUT" >&2
