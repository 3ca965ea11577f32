#!/usr/bin/env bash
# Prepare a kbuild tree for building out-of-tree modules against a Debian
# guest kernel without installing its headers package on the host: the arm64
# cloud kernel (cross-built on an amd64 host; nothing foreign is installed) or
# the amd64 one (native).
#
# Used by guests/linux/build-image.sh (pvpanic modules for aarch64, the
# i6300esb watchdog module for both) and guests/sample-agent/build.sh
# (sampledrv.ko for aarch64).
set -euo pipefail
umask 022

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROG=${0##*/}

usage() {
	cat <<EOF
Usage: $PROG --arch aarch64|x86_64 --release KREL [--cache DIR]

Downloads linux-headers-KREL:arm64 (amd64) and the matching linux-headers-*-common
with apt-get download (kept in DIR/debs), extracts them with dpkg-deb into
DIR/headers/KREL (kept: a second call returns at once), points them at the
host's linux-kbuild-<series> (the kbuild tools are host binaries; installed
with apt-get if missing) and makes sure the compiler is installed (aarch64:
gcc-aarch64-linux-gnu; x86_64: the host's gcc-12, CROSS_COMPILE empty).
Prints three lines on stdout:
  KDIR=<dir to pass to make -C>
  CROSS_COMPILE=<prefix>
  HEADERS_VERSION=<version of the headers package>

  --arch ARCH     aarch64 or x86_64 (on an amd64 host)
  --release KREL  kernel release, e.g. 6.1.0-56-cloud-arm64
  --cache DIR     cache directory (default: guests/linux/out/.cache,
                  or \$LABGATE_CACHE_DIR)
  -h, --help      show this help

Then: make -C "\$KDIR" M=\$PWD ARCH=arm64 CROSS_COMPILE="\$CROSS_COMPILE" modules
(ARCH=x86 for x86_64)
EOF
}

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

ARCH=
KREL=
CACHE=${LABGATE_CACHE_DIR:-$SCRIPT_DIR/out/.cache}
while [ $# -gt 0 ]; do
	case "$1" in
		--arch) [ $# -ge 2 ] || die "--arch needs a value"; ARCH=$2; shift 2 ;;
		--arch=*) ARCH=${1#--arch=}; shift ;;
		--release) [ $# -ge 2 ] || die "--release needs a value"; KREL=$2; shift 2 ;;
		--release=*) KREL=${1#--release=}; shift ;;
		--cache) [ $# -ge 2 ] || die "--cache needs a value"; CACHE=$2; shift 2 ;;
		--cache=*) CACHE=${1#--cache=}; shift ;;
		-h|--help) usage; exit 0 ;;
		*) usage >&2; die "unknown argument: $1" ;;
	esac
done

case "$ARCH" in
	aarch64) DEB_ARCH=arm64; KBUILD_ARCH=arm64; CROSS_COMPILE=aarch64-linux-gnu-; COMPILER_PKG=gcc-aarch64-linux-gnu ;;
	x86_64) DEB_ARCH=amd64; KBUILD_ARCH=x86; CROSS_COMPILE=; COMPILER_PKG=gcc-12 ;;
	'') die "--arch is required" ;;
	*) die "unsupported --arch '$ARCH' (supported: aarch64, x86_64)" ;;
esac
[ "$DEB_ARCH" != amd64 ] || [ "$(dpkg --print-architecture)" = amd64 ] ||
	die "--arch x86_64 builds natively: needs an amd64 host"
FOREIGN=0
[ "$DEB_ARCH" = "$(dpkg --print-architecture)" ] || FOREIGN=1
[ -n "$KREL" ] || die "--release is required"
[[ "$KREL" =~ ^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+-[a-z0-9-]+$ ]] || die "bad kernel release '$KREL'"
[ "$(id -u)" -eq 0 ] || die "must run as root (needs apt-get)"

HEADERS_PKG=linux-headers-$KREL
SERIES=${KREL%%.[0-9]-*}          # 6.1.0-56-cloud-arm64 -> 6.1
KBUILD_PKG=linux-kbuild-$SERIES
DEST=$CACHE/headers/$KREL
KDIR=$DEST/usr/src/$HEADERS_PKG

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

print_result() {
	echo "KDIR=$KDIR"
	echo "CROSS_COMPILE=$CROSS_COMPILE"
	echo "HEADERS_VERSION=$(cat "$DEST/headers.version")"
}

# The headers package fixes the compiler: CC = $(CROSS_COMPILE)gcc-12 (the
# kernel's own compiler, see CONFIG_CC_VERSION_TEXT); gcc-aarch64-linux-gnu
# brings aarch64-linux-gnu-gcc-12.
missing=()
for pkg in "$COMPILER_PKG" make "$KBUILD_PKG"; do
	pkg_installed "$pkg" || missing+=("$pkg")
done

if [ -s "$DEST/headers.version" ] && [ -d "$KDIR" ] && [ ${#missing[@]} -eq 0 ]; then
	print_result
	exit 0
fi

mkdir -p "$CACHE/headers" "$CACHE/debs"
exec 8>"$CACHE/headers/.lock"
flock -w 900 8 || die "another $PROG is still running (waited 900 s)"
if [ -s "$DEST/headers.version" ] && [ -d "$KDIR" ] && [ ${#missing[@]} -eq 0 ]; then
	print_result
	exit 0
fi

if [ "$FOREIGN" -eq 1 ] && ! dpkg --print-foreign-architectures | grep -qx "$DEB_ARCH"; then
	log "adding dpkg architecture $DEB_ARCH (for apt-get download only)"
	dpkg --add-architecture "$DEB_ARCH"
	apt-get update -q >&2 || die "apt-get update failed"
fi
if ! apt-cache show "$HEADERS_PKG:$DEB_ARCH" >/dev/null 2>&1; then
	log "apt-cache does not know $HEADERS_PKG:$DEB_ARCH: running apt-get update"
	apt-get update -q >&2 || die "apt-get update failed"
	apt-cache show "$HEADERS_PKG:$DEB_ARCH" >/dev/null 2>&1 ||
		die "$HEADERS_PKG:$DEB_ARCH is not available from the configured Debian mirrors"
fi
if [ ${#missing[@]} -gt 0 ]; then
	log "installing host packages: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
fi

HEADERS_VER=$(apt-cache policy "$HEADERS_PKG:$DEB_ARCH" | awk '$1 == "Candidate:" { print $2; exit }')
[ -n "$HEADERS_VER" ] && [ "$HEADERS_VER" != "(none)" ] || die "no installable version of $HEADERS_PKG:$DEB_ARCH"
COMMON_PKG=$(apt-cache depends "$HEADERS_PKG:$DEB_ARCH" |
	awk '$1 == "Depends:" { gsub(/[<>]/, "", $2); sub(/:.*/, "", $2) }
		$1 == "Depends:" && $2 ~ /^linux-headers-.*-common$/ { print $2; exit }')
[ -n "$COMMON_PKG" ] || die "cannot find the -common package $HEADERS_PKG depends on"
KBUILD_VER=$(dpkg-query -W -f='${Version}' "$KBUILD_PKG")
# The kbuild tools (fixdep, modpost, genksyms) are stable within a series; a
# different build only warns.
[ "$KBUILD_VER" = "$HEADERS_VER" ] ||
	log "warning: host $KBUILD_PKG is $KBUILD_VER, $HEADERS_PKG is $HEADERS_VER"

# fetch NAME VERSION ARCH: path of the cached .deb (apt verified its hash).
fetch() {
	local name=$1 ver=$2 arch=$3 f dl deb
	for f in "$CACHE/debs/${name}_"*".deb"; do
		[ -f "$f" ] || continue
		[ "$(dpkg-deb -f "$f" Package)" = "$name" ] && [ "$(dpkg-deb -f "$f" Version)" = "$ver" ] &&
			[ "$(dpkg-deb -f "$f" Architecture)" = "$arch" ] && { echo "$f"; return 0; }
	done
	log "downloading $name:$arch=$ver"
	dl=$(mktemp -d "$CACHE/debs/.dl.XXXXXX")
	chown _apt "$dl" 2>/dev/null || true
	(cd "$dl" && apt-get download -q "$name:$arch=$ver" >&2) || { rm -rf "$dl"; die "apt-get download $name:$arch=$ver failed"; }
	deb=$(find "$dl" -name '*.deb' | head -n1)
	[ -n "$deb" ] || { rm -rf "$dl"; die "apt-get download $name produced no .deb"; }
	mv "$deb" "$CACHE/debs/"
	rm -rf "$dl"
	echo "$CACHE/debs/${deb##*/}"
}

HEADERS_DEB=$(fetch "$HEADERS_PKG" "$HEADERS_VER" "$DEB_ARCH")
COMMON_VER=$(apt-cache policy "$COMMON_PKG" | awk '$1 == "Candidate:" { print $2; exit }')
COMMON_DEB=$(fetch "$COMMON_PKG" "$COMMON_VER" all)

TMP=$(mktemp -d "$CACHE/headers/.$KREL.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
log "extracting ${HEADERS_DEB##*/} and ${COMMON_DEB##*/}"
dpkg-deb -x "$HEADERS_DEB" "$TMP"
dpkg-deb -x "$COMMON_DEB" "$TMP"
# scripts/ and tools/ are relative links to ../../lib/linux-kbuild-<series>:
# point that at the host's (amd64) kbuild tools.
mkdir -p "$TMP/usr/lib"
ln -s "/usr/lib/$KBUILD_PKG" "$TMP/usr/lib/$KBUILD_PKG"
# The flavour's Makefile includes the common one by absolute path; make it
# refer to the extracted copy (the host may have another ABI's -common).
mk=$TMP/usr/src/$HEADERS_PKG/Makefile
grep -q "^include /usr/src/$COMMON_PKG/Makefile\$" "$mk" || die "unexpected $mk: $(head -n3 "$mk")"
echo "include $DEST/usr/src/$COMMON_PKG/Makefile" >"$mk"
grep -q "^override ARCH = $KBUILD_ARCH\$" "$TMP/usr/src/$HEADERS_PKG/.kernelvariables" ||
	die "$HEADERS_PKG is not an $KBUILD_ARCH kernel"
echo "$HEADERS_VER" >"$TMP/headers.version"
chmod 0755 "$TMP"
rm -rf "$DEST"
mv "$TMP" "$DEST"
trap - EXIT
print_result
