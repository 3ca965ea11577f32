#!/usr/bin/env bash
# Build the labgate debug guest kernel (KASAN, KFENCE, lockdep, kmemleak,
# UBSAN) from Debian's linux-source-6.1 and keep it in a cache outside the
# checkout, keyed by its inputs: the source package version, the config
# fragment, the compiler and FORMAT_VERSION (bump it when the way the kernel
# is configured or built below changes; other edits of this script do not
# rebuild a kernel that takes minutes).  A second call with the same
# inputs prints the cached kernel at once.
#
# Prints KEY=VALUE lines on stdout for the callers (build-image.sh,
# the sample agent's build.sh):
#   KREL=6.1.N-labgate-debug  VMLINUZ=PATH  KDIR=PATH (kbuild tree for
#   out-of-tree modules)  MODROOT=PATH (modules_install output)  BUILD_S=N
set -euo pipefail
umask 022

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROG=${0##*/}
FORMAT_VERSION=1
SOURCE_PKG=linux-source-6.1
LOCK_WAIT_S=3600

usage() {
	cat <<USAGE
Usage: $PROG [--arch x86_64] [--cache DIR] [--jobs N] [--force]

Builds the debug kernel of the labgate guest linux-x86_64-debug from
$SOURCE_PKG (allnoconfig plus guests/linux/debug-kernel/ARCH.config:
KASAN, KFENCE, lockdep, kmemleak, UBSAN, SLUB debug, everything the guest
needs built in).  Minutes on 2 cores the first time (it prints progress);
later calls with the same inputs reuse the cached build.

  --arch ARCH   x86_64 (the only one with a debug profile)
  --cache DIR   cache directory (default \$LABGATE_KERNEL_CACHE or
                /var/cache/labgate/kernels)
  --jobs N      parallel make jobs (default: the number of CPUs)
  --force       rebuild even if a complete build with the same inputs exists
  -h, --help    show this help

Must run as root on Debian 12 the first time (installs $SOURCE_PKG and the
kernel build dependencies with apt-get).
USAGE
}

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

ARCH=x86_64
CACHE=${LABGATE_KERNEL_CACHE:-/var/cache/labgate/kernels}
JOBS=$(nproc)
FORCE=0
while [ $# -gt 0 ]; do
	case "$1" in
		--arch) [ $# -ge 2 ] || die "--arch needs a value"; ARCH=$2; shift 2 ;;
		--arch=*) ARCH=${1#--arch=}; shift ;;
		--cache) [ $# -ge 2 ] || die "--cache needs a value"; CACHE=$2; shift 2 ;;
		--cache=*) CACHE=${1#--cache=}; shift ;;
		--jobs) [ $# -ge 2 ] || die "--jobs needs a value"; JOBS=$2; shift 2 ;;
		--jobs=*) JOBS=${1#--jobs=}; shift ;;
		--force) FORCE=1; shift ;;
		-h|--help) usage; exit 0 ;;
		*) usage >&2; die "unknown argument: $1" ;;
	esac
done
case "$ARCH" in
	x86_64) KBUILD_ARCH=x86_64; IMAGE_TARGET=bzImage; IMAGE_PATH=arch/x86/boot/bzImage ;;
	*) die "unsupported --arch '$ARCH' (a debug kernel exists for x86_64 only)" ;;
esac
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "--jobs needs a positive number, not '$JOBS'"
FRAGMENT=$SCRIPT_DIR/debug-kernel/$ARCH.config
[ -f "$FRAGMENT" ] || die "missing config fragment $FRAGMENT"

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}
BUILD_DEPS=(make gcc libc6-dev bc flex bison libelf-dev libssl-dev xz-utils kmod)
missing=()
for pkg in "$SOURCE_PKG" "${BUILD_DEPS[@]}"; do
	pkg_installed "$pkg" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "must run as root to install ${missing[*]}"
	log "installing ${missing[*]}"
	if ! apt-cache show "$SOURCE_PKG" >/dev/null 2>&1; then
		apt-get update -q >&2 || die "apt-get update failed"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
fi
SOURCE_VER=$(dpkg-query -W -f='${Version}' "$SOURCE_PKG")
TARBALL=/usr/src/$SOURCE_PKG.tar.xz
[ -f "$TARBALL" ] || die "$SOURCE_PKG $SOURCE_VER is installed but $TARBALL is missing"

KEY=$({
	echo "labgate debug kernel format $FORMAT_VERSION arch $ARCH"
	echo "$SOURCE_PKG $SOURCE_VER"
	gcc --version | head -n1
	sha256sum <"$FRAGMENT"
} | sha256sum | cut -c1-16)
DIR=$CACHE/$ARCH-$KEY

print_result() {
	echo "KREL=$(cat "$DIR/kernel-release")"
	echo "VMLINUZ=$DIR/vmlinuz"
	echo "KDIR=$DIR/obj"
	echo "MODROOT=$DIR/modroot"
	echo "BUILD_S=$(cat "$DIR/build-seconds")"
	echo "KEY=$KEY"
}

if [ "$FORCE" -eq 0 ] && [ -f "$DIR/complete" ]; then
	print_result
	exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.build-$ARCH.lock"
flock -w "$LOCK_WAIT_S" 9 || die "another build of the $ARCH debug kernel is still running (waited $LOCK_WAIT_S s)"
if [ "$FORCE" -eq 0 ] && [ -f "$DIR/complete" ]; then
	print_result
	exit 0
fi

START_S=$(date +%s)
# Builds are kept in place (a kbuild tree records its own paths), so an
# interrupted one is recognized by its missing "complete" and started over.
rm -rf "$DIR"
mkdir -p "$DIR/obj" "$DIR/src"
SRC=$DIR/src
log "extracting $SOURCE_PKG $SOURCE_VER into $DIR"
tar -xJf "$TARBALL" -C "$SRC" --strip-components=1 || die "cannot extract $TARBALL"

KMAKE=(make -C "$SRC" O="$DIR/obj" ARCH="$KBUILD_ARCH")
{
	"${KMAKE[@]}" allnoconfig &&
		"$SRC/scripts/kconfig/merge_config.sh" -O "$DIR/obj" -m "$DIR/obj/.config" "$FRAGMENT" &&
		"${KMAKE[@]}" olddefconfig
} >"$DIR/config.log" 2>&1 || { cat "$DIR/config.log" >&2; die "configuring the kernel failed"; }

# Every line of the fragment must have survived Kconfig's dependency rules:
# a detector silently dropped would make the debug guest a stock one.
bad=
while IFS= read -r line; do
	case "$line" in '' | '#'*) continue ;; esac
	opt=${line%%=*}
	want=${line#*=}
	if [ "$want" = n ]; then
		if grep -qx "$opt=[ym]" "$DIR/obj/.config"; then bad="$bad $line"; fi
	elif ! grep -qxF "$line" "$DIR/obj/.config"; then
		bad="$bad $line"
	fi
done <"$FRAGMENT"
[ -z "$bad" ] || die "Kconfig did not keep:$bad (missing dependencies in $FRAGMENT?)"

log "building the $ARCH debug kernel with $JOBS jobs (log: $DIR/build.log)"
"${KMAKE[@]}" -j"$JOBS" "$IMAGE_TARGET" modules >"$DIR/build.log" 2>&1 &
make_pid=$!
trap 'kill "$make_pid" 2>/dev/null; wait "$make_pid" 2>/dev/null; rm -rf "$DIR"; exit 130' INT TERM
while kill -0 "$make_pid" 2>/dev/null; do
	for _ in $(seq 1 60); do
		kill -0 "$make_pid" 2>/dev/null || break
		sleep 1
	done
	if kill -0 "$make_pid" 2>/dev/null; then
		log "... $(($(date +%s) - START_S)) s, $(grep -c '^  CC ' "$DIR/build.log" || true) files compiled"
	fi
done
rc=0
wait "$make_pid" || rc=$?
trap - INT TERM
[ "$rc" -eq 0 ] || { tail -n 40 "$DIR/build.log" >&2; die "the kernel build failed (log: $DIR/build.log)"; }
"${KMAKE[@]}" INSTALL_MOD_PATH="$DIR/modroot" modules_install >>"$DIR/build.log" 2>&1 ||
	die "make modules_install failed (log: $DIR/build.log)"
"${KMAKE[@]}" -s kernelrelease >"$DIR/kernel-release" || die "make kernelrelease failed"
cp "$DIR/obj/$IMAGE_PATH" "$DIR/vmlinuz"
cp "$DIR/obj/.config" "$DIR/config"
echo $(($(date +%s) - START_S)) >"$DIR/build-seconds"
# CPU time of everything the build ran (the second line of `times`): what
# it costs on an idle machine, whatever else ran beside it
# (in this shell: a command substitution's subshell would report its own)
times >"$DIR/times"
cpu_s=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$DIR/times")
echo "$cpu_s" >"$DIR/build-cpu-seconds"
# libvirt-qemu boots the kernel under qemu:///system
chmod -R a+rX "$DIR"
touch "$DIR/complete"
log "built $(cat "$DIR/kernel-release") in $(cat "$DIR/build-seconds") s ($cpu_s s of CPU time)"
print_result
