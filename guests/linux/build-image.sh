#!/usr/bin/env bash
# Build the small labgate Linux test guest from Debian packages.
#
# Output (default guests/linux/out/<arch>): vmlinuz, initrd.img, rootfs.qcow2,
# kernel-release, id_ecdsa(.pub), host_key.pub, packages.lock, inputs.sha256.
# See guests/linux/README.md for the guest contract the harness relies on.
# x86_64 takes busybox and dropbear from the host; aarch64 takes them from
# arm64 .debs (apt-get download, dpkg-deb -x: nothing foreign is installed).
set -euo pipefail
umask 022

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROG=${0##*/}
FORMAT_VERSION=1          # bump when the output layout changes
ROOTFS_SIZE=512M
LOCK_WAIT_S=900

usage() {
	cat <<EOF
Usage: $PROG [--arch x86_64|aarch64] [--kernel stock|debug] [--out DIR] [--force] [--new-keys]

Builds the labgate Linux test guest (Debian cloud kernel, busybox initramfs,
ext4 root disk with busybox, dropbear, qemu-guest-agent and stress-ng) into DIR
(default: guests/linux/out/<arch>). Must run as root on Debian 12; installs
the host packages it needs with apt-get.

  --arch ARCH   guest architecture: x86_64 (default) or aarch64
  --kernel KIND stock (default): Debian's cloud kernel; debug: the KASAN +
                KFENCE + lockdep + kmemleak + UBSAN kernel built from
                linux-source-6.1 by debug-kernel.sh (x86_64 only; cached
                outside the checkout, minutes to build the first time);
                the default output directory is then out/<arch>-debug
  --out DIR     output directory (replaced atomically)
  --force       re-resolve package versions and rebuild even if up to date
  --new-keys    generate new SSH keys (implies --force); otherwise the keys
                made by the first build (kept in DIR/../.keys-<name>/) are reused,
                so a rebuild does not lock out a harness that already read them
  -h, --help    show this help

Rebuilds only when this script, a file under guests/linux/ (except out/) or
the resolved package versions change; otherwise prints "up to date".
EOF
}

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

ARCH=x86_64
KERNEL_KIND=stock
OUT=
FORCE=0
NEW_KEYS=0
while [ $# -gt 0 ]; do
	case "$1" in
		--arch) [ $# -ge 2 ] || die "--arch needs a value"; ARCH=$2; shift 2 ;;
		--arch=*) ARCH=${1#--arch=}; shift ;;
		--kernel) [ $# -ge 2 ] || die "--kernel needs a value"; KERNEL_KIND=$2; shift 2 ;;
		--kernel=*) KERNEL_KIND=${1#--kernel=}; shift ;;
		--out) [ $# -ge 2 ] || die "--out needs a value"; OUT=$2; shift 2 ;;
		--out=*) OUT=${1#--out=}; shift ;;
		--force) FORCE=1; shift ;;
		--new-keys) NEW_KEYS=1; FORCE=1; shift ;;
		-h|--help) usage; exit 0 ;;
		*) usage >&2; die "unknown argument: $1" ;;
	esac
done

# Per-architecture settings. FOREIGN=1: busybox and dropbear come from the
# DEB_ARCH .debs with their libraries (ldd on the host cannot resolve foreign
# binaries). EXTRA_KMODS: out-of-tree modules under kmod/ built against the
# guest kernel's headers (Debian's arm64 kernels lack CONFIG_PVPANIC; neither
# cloud kernel has a driver for QEMU's i6300esb watchdog), with COMPILER_PKG.
case "$ARCH" in
	x86_64)
		DEB_ARCH=amd64
		LIB_TRIPLET=x86_64-linux-gnu
		KERNEL_META=linux-image-cloud-amd64
		FOREIGN=0
		EXTRA_KMODS=i6300esb
		KBUILD_ARCH=x86
		COMPILER_PKG=gcc-12
		;;
	aarch64)
		DEB_ARCH=arm64
		LIB_TRIPLET=aarch64-linux-gnu
		KERNEL_META=linux-image-cloud-arm64
		FOREIGN=1
		EXTRA_KMODS="pvpanic i6300esb"
		KBUILD_ARCH=arm64
		COMPILER_PKG=gcc-12-aarch64-linux-gnu
		;;
	*)
		die "unsupported --arch '$ARCH' (supported: x86_64, aarch64)" ;;
esac
NAME=$ARCH
case "$KERNEL_KIND" in
	stock) ;;
	debug)
		[ "$ARCH" = x86_64 ] || die "--kernel debug exists for x86_64 only"
		# everything the guest needs is built into the debug kernel
		EXTRA_KMODS=
		NAME=$ARCH-debug
		;;
	*) die "unsupported --kernel '$KERNEL_KIND' (supported: stock, debug)" ;;
esac
MODULE_LIST=$SCRIPT_DIR/modules-$NAME.list
[ -f "$MODULE_LIST" ] || die "missing module list $MODULE_LIST"

OUT=${OUT:-$SCRIPT_DIR/out/$NAME}
mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd -P)/$(basename "$OUT")
OUT_PARENT=$(dirname "$OUT")
DEB_CACHE=${LABGATE_DEB_CACHE:-$SCRIPT_DIR/out/.cache/debs}
KEY_DIR=$OUT_PARENT/.keys-$(basename "$OUT")
OUTPUTS="vmlinuz initrd.img rootfs.qcow2 kernel-release id_ecdsa id_ecdsa.pub host_key.pub packages.lock"
[ "$KERNEL_KIND" = stock ] || OUTPUTS="$OUTPUTS kbuild-dir"

# ---------------------------------------------------------------- cache stamp

# Everything under guests/linux/ except out/ (this script included).
source_digest() {
	(cd "$SCRIPT_DIR" &&
		find . -path ./out -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}

# stamp LOCKFILE: hash over the sources and the exact package versions.
stamp() {
	{
		echo "labgate-guest format $FORMAT_VERSION arch $ARCH kernel $KERNEL_KIND rootfs $ROOTFS_SIZE"
		source_digest
		cat "$1"
	} | sha256sum | cut -d' ' -f1
}

outputs_complete() {
	local f
	for f in $OUTPUTS inputs.sha256; do
		[ -s "$OUT/$f" ] || return 1
	done
	# the debug kernel's build tree (for the agent's modules) is in a cache
	# that may have been cleared since
	[ ! -s "$OUT/kbuild-dir" ] || [ -d "$(cat "$OUT/kbuild-dir")" ]
}

# Fast path: no apt, no lock, just hashing a few small files.
if [ "$FORCE" -eq 0 ] && outputs_complete &&
	[ "$(stamp "$OUT/packages.lock")" = "$(cat "$OUT/inputs.sha256")" ]; then
	echo "$PROG: $OUT is up to date"
	exit 0
fi

# ---------------------------------------------------------------- slow path

[ "$(id -u)" -eq 0 ] || die "must run as root (needs apt-get and mknod)"

exec 9>"$OUT_PARENT/.build-$ARCH.lock"
flock -w "$LOCK_WAIT_S" 9 || die "another build of $OUT is still running (waited ${LOCK_WAIT_S} s)"

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

ensure_host_packages() {
	local missing=() pkg
	for pkg in "$@"; do
		pkg_installed "$pkg" || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing host packages: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}

# busybox-static and dropbear-bin on the host: the x86_64 guest's binaries,
# dropbearkey for the keys and, for aarch64, busybox's applet list (the arm64
# busybox cannot run here). binutils: readelf, to follow the libraries of
# binaries taken from .debs.
ensure_host_packages busybox-static dropbear-bin openssh-client e2fsprogs qemu-utils cpio kmod gzip util-linux binutils

if [ "$FOREIGN" -eq 1 ] && ! dpkg --print-foreign-architectures | grep -qx "$DEB_ARCH"; then
	log "adding dpkg architecture $DEB_ARCH (for apt-get download only; nothing of it is installed)"
	dpkg --add-architecture "$DEB_ARCH" || die "dpkg --add-architecture $DEB_ARCH failed"
	apt-get update -q >&2 || die "apt-get update failed"
fi
if [ "$KERNEL_KIND" = debug ]; then
	# KREL, VMLINUZ, KDIR, MODROOT, KEY (builds it the first time: minutes)
	debug_kernel=$("$SCRIPT_DIR/debug-kernel.sh" --arch "$ARCH") || die "building the debug kernel failed"
	DEBUG_KREL=$(echo "$debug_kernel" | sed -n 's/^KREL=//p')
	DEBUG_VMLINUZ=$(echo "$debug_kernel" | sed -n 's/^VMLINUZ=//p')
	DEBUG_KDIR=$(echo "$debug_kernel" | sed -n 's/^KDIR=//p')
	DEBUG_MODROOT=$(echo "$debug_kernel" | sed -n 's/^MODROOT=//p')
	DEBUG_KEY=$(echo "$debug_kernel" | sed -n 's/^KEY=//p')
	[ -n "$DEBUG_KREL" ] && [ -f "$DEBUG_VMLINUZ" ] && [ -d "$DEBUG_KDIR" ] && [ -d "$DEBUG_MODROOT" ] ||
		die "debug-kernel.sh gave no usable kernel: $debug_kernel"
fi
if ! apt-cache show "$KERNEL_META:$DEB_ARCH" >/dev/null 2>&1 ||
	! apt-cache show "qemu-guest-agent:$DEB_ARCH" >/dev/null 2>&1; then
	log "apt-cache does not know $KERNEL_META:$DEB_ARCH or qemu-guest-agent:$DEB_ARCH: running apt-get update"
	apt-get update -q >&2 || die "apt-get update failed"
fi

# candidate_version PKG: the version apt would download for PKG:DEB_ARCH.
candidate_version() {
	apt-cache policy "$1:$DEB_ARCH" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }'
}

# linux-image-cloud-amd64 (meta) -> linux-image-6.1.0-NN-cloud-amd64 (concrete).
KERNEL_PKG=$(apt-cache depends "$KERNEL_META:$DEB_ARCH" 2>/dev/null |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { sub(/:.*/, "", $2); print $2; exit }')
[ -n "$KERNEL_PKG" ] || die "cannot resolve the kernel package behind $KERNEL_META (apt-cache depends)"
KERNEL_VER=$(candidate_version "$KERNEL_PKG")
[ -n "$KERNEL_VER" ] && [ "$KERNEL_VER" != "(none)" ] || die "no installable version of $KERNEL_PKG"

NEW_LOCK=$(mktemp "$OUT_PARENT/.packages-$ARCH.XXXXXX")
# Packages taken from .debs are extracted here (per package) while resolving.
DEBROOT=$(mktemp -d "$OUT_PARENT/.debs-$ARCH.XXXXXX")
trap 'rm -rf "$NEW_LOCK" "$DEBROOT"' EXIT
mkdir -p "$DEB_CACHE"

# fetch_deb NAME VERSION: path of NAME_VERSION_{DEB_ARCH,all}.deb in the cache,
# downloaded with apt-get download if missing (apt verifies its hash).
fetch_deb() {
	local name=$1 ver=$2 f dl deb
	for f in "$DEB_CACHE/${name}_"*.deb; do
		[ -f "$f" ] || continue
		[ "$(dpkg-deb -f "$f" Package)" = "$name" ] && [ "$(dpkg-deb -f "$f" Version)" = "$ver" ] || continue
		case "$(dpkg-deb -f "$f" Architecture)" in "$DEB_ARCH"|all) echo "$f"; return 0 ;; esac
	done
	log "downloading $name=$ver"
	dl=$(mktemp -d "$DEB_CACHE/.dl.XXXXXX")
	# apt drops privileges to _apt for downloads when it can write there.
	chown _apt "$dl" 2>/dev/null || true
	(cd "$dl" && apt-get download -q "$name:$DEB_ARCH=$ver" >&2) || { rm -rf "$dl"; die "apt-get download $name:$DEB_ARCH=$ver failed"; }
	deb=$(find "$dl" -name '*.deb' | head -n1)
	[ -n "$deb" ] || { rm -rf "$dl"; die "apt-get download $name produced no .deb"; }
	mv "$deb" "$DEB_CACHE/"
	rm -rf "$dl"
	echo "$DEB_CACHE/${deb##*/}"
}

pkg_version() { dpkg-query -W -f='${Version}' "$1"; }
lib_package() {
	local p
	p=$(dpkg -S "$1" 2>/dev/null || dpkg -S "$(readlink -f "$1")" 2>/dev/null) || { echo unknown; return; }
	echo "${p%%:*}"
}

# ---- binaries from .debs and the libraries they need
#
# Each package is extracted into $DEBROOT/<name>. A library (DT_NEEDED) is
# looked for in the packages extracted so far, then in the direct Depends of
# the package of the binary that needs it (Debian's shlibs: every NEEDED
# soname comes from a direct dependency). For the host's own architecture a
# library the host has is taken from the host instead, like dropbear's, so
# that the guest never mixes two builds of libc. Result: COPY lines
# "SRC DEST" for the root file system and lock lines for packages.lock.
declare -A DEB_VERSION=()   # extracted package -> version
declare -A CANDIDATE=()     # package -> apt's candidate version or "(none)"
declare -A DEPENDS=()       # package -> its direct Depends
declare -A HOST_PROVIDED=() # soname or path the root fs already gets from the host
DEB_COPY=$DEBROOT/copy.list
DEB_LOCK=$DEBROOT/lock.list
: >"$DEB_COPY"
: >"$DEB_LOCK"

# lookup_candidates PKG...: fill CANDIDATE with one apt-cache call (each call
# costs about a second where apt keeps no package cache).
lookup_candidates() {
	local todo=() p name ver
	for p in "$@"; do
		[ -n "${CANDIDATE[$p]+x}" ] && continue
		CANDIDATE[$p]="(none)"
		todo+=("$p:$DEB_ARCH")
	done
	[ ${#todo[@]} -gt 0 ] || return 0
	while read -r name ver; do
		CANDIDATE[$name]=$ver
	done < <(apt-cache policy "${todo[@]}" 2>/dev/null |
		awk '/^[^ ]/ { sub(/:$/, ""); sub(/:.*/, ""); name = $0 } $1 == "Candidate:" { print name, $2 }')
}

extract_deb() { # NAME [VERSION]: extract once; fails if apt has no candidate
	local name=$1 ver=${2:-} deb
	[ -z "${DEB_VERSION[$name]:-}" ] || return 0
	if [ -z "$ver" ]; then
		lookup_candidates "$name"
		ver=${CANDIDATE[$name]}
	fi
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
	deb=$(fetch_deb "$name" "$ver")
	mkdir -p "$DEBROOT/pkg/$name"
	dpkg-deb -x "$deb" "$DEBROOT/pkg/$name" || die "dpkg-deb -x $deb failed"
	DEB_VERSION[$name]=$ver
}

find_in_debs() { # SONAME-or-/PATH: prints "PACKAGE RELPATH" of the first match
	local want=$1 name rel
	for name in "${!DEB_VERSION[@]}"; do
		if [ "${want#/}" != "$want" ]; then
			rel=${want#/}
			if [ -e "$DEBROOT/pkg/$name/$rel" ]; then echo "$name $rel"; return 0; fi
			continue
		fi
		for rel in "lib/$LIB_TRIPLET/$want" "usr/lib/$LIB_TRIPLET/$want" "lib/$want" "usr/lib/$want"; do
			if [ -e "$DEBROOT/pkg/$name/$rel" ]; then echo "$name $rel"; return 0; fi
		done
	done
	return 1
}

direct_depends() { # PACKAGE: its Depends (first alternative), without :arch
	apt-cache depends "$1:$DEB_ARCH" 2>/dev/null |
		awk '$1 == "Depends:" || $1 == "|Depends:" { gsub(/[<>]/, "", $2); sub(/:.*/, "", $2); print $2 }' |
		LC_ALL=C sort -u
}

# need_file PACKAGE WANT: make sure WANT (a soname, or the interpreter's path)
# is copied into the root fs, with what it needs in turn.
need_file() {
	local owner=$1 want=$2 hit dep
	[ -z "${HOST_PROVIDED[$want]:-}" ] || return 0
	[ -z "${HOST_PROVIDED[${want##*/}]:-}" ] || return 0
	if [ "$FOREIGN" -eq 0 ]; then
		for hit in "$want" "/lib/$LIB_TRIPLET/$want" "/usr/lib/$LIB_TRIPLET/$want"; do
			[ "${hit#/}" != "$hit" ] && [ -e "$hit" ] || continue
			add_host_lib "$hit"
			return 0
		done
	fi
	hit=$(find_in_debs "$want") || {
		[ -n "${DEPENDS[$owner]+x}" ] || DEPENDS[$owner]=$(direct_depends "$owner")
		# shellcheck disable=SC2086 # a list of package names
		lookup_candidates ${DEPENDS[$owner]}
		for dep in ${DEPENDS[$owner]}; do
			extract_deb "$dep" || continue
			hit=$(find_in_debs "$want") && break
		done
	}
	[ -n "$hit" ] || die "no package among the dependencies of $owner ($DEB_ARCH) provides $want"
	add_binary "${hit%% *}" "${hit#* }" "$(dirname "/${hit#* }")"
}

# add_host_lib PATH: the host's PATH, to the same path in the root fs.
add_host_lib() {
	local path=$1 pkg lib
	awk -v d="$path" '$2 == d { found = 1 } END { exit !found }' "$DEB_COPY" && return 0
	pkg=$(lib_package "$path")
	[ "$pkg" != unknown ] || die "$path (needed by a binary from a .deb) belongs to no host package"
	echo "$path $path" >>"$DEB_COPY"
	echo "$pkg $(pkg_version "$pkg") host-lib:$path" >>"$DEB_LOCK"
	for lib in $(readelf -dW "$path" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
		need_file "$pkg" "$lib"
	done
}

# add_binary PACKAGE RELPATH DESTDIR: copy RELPATH of PACKAGE to DESTDIR in
# the root fs (same name), plus its interpreter and NEEDED libraries.
add_binary() {
	local pkg=$1 rel=$2 destdir=$3 src dest interp lib
	src=$DEBROOT/pkg/$pkg/$rel
	dest=$destdir/${rel##*/}
	awk -v d="$dest" '$2 == d { found = 1 } END { exit !found }' "$DEB_COPY" && return 0
	[ -e "$src" ] || die "$pkg ($DEB_ARCH) has no /$rel"
	echo "$src $dest" >>"$DEB_COPY"
	echo "$pkg ${DEB_VERSION[$pkg]} deb:$DEB_ARCH:$dest" >>"$DEB_LOCK"
	interp=$(readelf -lW "$src" 2>/dev/null | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p')
	[ -z "$interp" ] || need_file "$pkg" "$interp"
	for lib in $(readelf -dW "$src" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
		need_file "$pkg" "$lib"
	done
}

if [ "$FOREIGN" -eq 0 ]; then
	BUSYBOX=/bin/busybox
	DROPBEAR=/usr/sbin/dropbear
	file_from_pkg() { dpkg -L "$1" | grep -qx "$2"; }
	file_from_pkg busybox-static "$BUSYBOX" || die "$BUSYBOX is not from busybox-static"
	file_from_pkg dropbear-bin "$DROPBEAR" || die "$DROPBEAR is not from dropbear-bin"

	# Shared libraries of dropbear as the host resolves them (same Debian release).
	DROPBEAR_LIBS=$(ldd "$DROPBEAR" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | LC_ALL=C sort -u)
	[ -n "$DROPBEAR_LIBS" ] || die "ldd $DROPBEAR found no libraries"
	# qemu-ga (from its .deb) uses these host copies rather than a second libc.
	for lib in $DROPBEAR_LIBS; do
		HOST_PROVIDED[$lib]=1
		HOST_PROVIDED[${lib##*/}]=1
	done
else
	# The applet list comes from the host's busybox: same package version,
	# same configuration (the arm64 binary cannot run here to list itself).
	HOST_BUSYBOX_VER=$(dpkg-query -W -f='${Version}' busybox-static)
	extract_deb busybox-static "$HOST_BUSYBOX_VER" ||
		die "busybox-static:$DEB_ARCH=$HOST_BUSYBOX_VER (the host's version) is not available: apt-get install busybox-static to update the host first"
	BUSYBOX=$DEBROOT/pkg/busybox-static/bin/busybox
	[ -f "$BUSYBOX" ] || die "busybox-static:$DEB_ARCH has no /bin/busybox"
	readelf -lW "$BUSYBOX" | grep -q 'program interpreter' && die "busybox-static:$DEB_ARCH is not static"
	extract_deb dropbear-bin || die "no installable version of dropbear-bin:$DEB_ARCH"
	add_binary dropbear-bin usr/sbin/dropbear /usr/sbin
	DROPBEAR_LIBS=
fi
extract_deb qemu-guest-agent || die "no installable version of qemu-guest-agent:$DEB_ARCH"
add_binary qemu-guest-agent usr/sbin/qemu-ga /usr/sbin
# stress-ng: the load of the <stress> step (harness/guest/oscmd.c). Taken
# from its .deb for both arches; its libraries follow like qemu-ga's (on
# x86_64 from the host where the host has them). Its version is in
# packages.lock, so a new stress-ng rebuilds the image.
extract_deb stress-ng || die "no installable version of stress-ng:$DEB_ARCH"
add_binary stress-ng usr/bin/stress-ng /usr/bin

{
	echo "# package version (source) -- written by $PROG"
	if [ "$KERNEL_KIND" = debug ]; then
		echo "linux-source-6.1 $(pkg_version linux-source-6.1) debug-kernel:$DEBUG_KEY"
	else
		echo "$KERNEL_PKG $KERNEL_VER apt-get-download"
	fi
	if [ "$FOREIGN" -eq 0 ]; then
		echo "busybox-static $(pkg_version busybox-static) host"
		echo "dropbear-bin $(pkg_version dropbear-bin) host"
		for lib in $DROPBEAR_LIBS; do
			p=$(lib_package "$lib")
			echo "$p $( [ "$p" = unknown ] || pkg_version "$p") host-lib:$lib"
		done | LC_ALL=C sort -u
	else
		echo "busybox-static ${DEB_VERSION[busybox-static]} deb:$DEB_ARCH:/bin/busybox"
		echo "busybox-static $HOST_BUSYBOX_VER host (applet list)"
	fi
	if [ -n "$EXTRA_KMODS" ]; then
		# The out-of-tree modules are built with these.
		echo "linux-headers-${KERNEL_PKG#linux-image-} $(candidate_version "linux-headers-${KERNEL_PKG#linux-image-}") apt-get-download"
		echo "$COMPILER_PKG $(pkg_version "$COMPILER_PKG" 2>/dev/null || echo missing) host"
	fi
	LC_ALL=C sort -u "$DEB_LOCK"
} >"$NEW_LOCK"

NEW_STAMP=$(stamp "$NEW_LOCK")
if [ "$FORCE" -eq 0 ] && outputs_complete && [ "$NEW_STAMP" = "$(cat "$OUT/inputs.sha256")" ]; then
	echo "$PROG: $OUT is up to date"
	exit 0
fi

# ---------------------------------------------------------------- build

START_S=$(date +%s)
WORK=$(mktemp -d "$OUT_PARENT/.build-$ARCH.XXXXXX")
PREVIOUS=$WORK/previous-out
cleanup() {
	# Interrupted between the two renames of the swap: put the old output back.
	if [ ! -e "$OUT" ] && [ -e "$PREVIOUS" ]; then
		mv "$PREVIOUS" "$OUT" || true
	fi
	rm -rf "$WORK" "$NEW_LOCK" "$DEBROOT"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 0755 "$WORK"
mkdir -p "$WORK/out" "$DEB_CACHE"

if [ "$KERNEL_KIND" = debug ]; then
	KREL=$DEBUG_KREL
	mkdir -p "$WORK/kernel/lib/modules"
	cp -a "$DEBUG_MODROOT/lib/modules/$KREL" "$WORK/kernel/lib/modules/"
	cp "$DEBUG_VMLINUZ" "$WORK/out/vmlinuz"
	# the sample agent's build.sh builds modules against this tree
	echo "$DEBUG_KDIR" >"$WORK/out/kbuild-dir"
	KERNEL_PKG="the debug kernel"
else
	# Kernel .deb (cached; apt verified its hash when downloading it).
	DEB=$(fetch_deb "$KERNEL_PKG" "$KERNEL_VER")

	log "extracting ${DEB##*/}"
	dpkg-deb -x "$DEB" "$WORK/kernel"
	KREL=$(ls "$WORK/kernel/lib/modules")
	[ "$(echo "$KREL" | wc -l)" -eq 1 ] || die "expected one module tree in $DEB, found: $KREL"
	[ "linux-image-$KREL" = "$KERNEL_PKG" ] || die "package $KERNEL_PKG ships modules for $KREL"
	cp "$WORK/kernel/boot/vmlinuz-$KREL" "$WORK/out/vmlinuz"
fi
echo "$KREL" >"$WORK/out/kernel-release"

# Out-of-tree modules (kmod/<name>/), cross-built against the guest kernel's
# headers and put into its module tree as extra/ before the selection below.
for kmod in $EXTRA_KMODS; do
	log "building kmod/$kmod for $KREL"
	kbuild_env=$("$SCRIPT_DIR/kernel-headers.sh" --arch "$ARCH" --release "$KREL" \
		--cache "$(dirname "$DEB_CACHE")") || die "cannot prepare the $KREL headers"
	kdir=$(echo "$kbuild_env" | sed -n 's/^KDIR=//p')
	cross=$(echo "$kbuild_env" | sed -n 's/^CROSS_COMPILE=//p')
	cp -R "$SCRIPT_DIR/kmod/$kmod" "$WORK/kmod-$kmod"
	make -C "$kdir" M="$WORK/kmod-$kmod" ARCH="$KBUILD_ARCH" CROSS_COMPILE="$cross" modules \
		>"$WORK/kmod-$kmod.log" 2>&1 || { cat "$WORK/kmod-$kmod.log" >&2; die "building kmod/$kmod failed"; }
	mkdir -p "$WORK/kernel/lib/modules/$KREL/extra"
	for ko in "$WORK/kmod-$kmod"/*.ko; do
		vermagic=$(modinfo -F vermagic "$ko")
		[ "${vermagic%% *}" = "$KREL" ] || die "${ko##*/} has vermagic '$vermagic', expected $KREL"
		cp "$ko" "$WORK/kernel/lib/modules/$KREL/extra/"
	done
done

# Minimal module tree: the listed modules and their dependencies.
log "selecting modules for $KREL"
depmod -b "$WORK/kernel" "$KREL"
MODS=$WORK/modtree
MODDIR=lib/modules/$KREL
mkdir -p "$MODS/$MODDIR"
# (the debug kernel's list is empty: grep finding nothing is no error)
{ grep -v '^[[:space:]]*\(#\|$\)' "$MODULE_LIST" || true; } >"$WORK/modules.load"
while read -r mod; do
	deps=$(modprobe -d "$WORK/kernel" -S "$KREL" --show-depends "$mod" 2>&1) ||
		die "module $mod is not in $KERNEL_PKG: $deps"
	echo "$deps" | awk '$1 == "insmod" { print $2 }' | while read -r ko; do
		rel=${ko#"$WORK/kernel/"}
		mkdir -p "$MODS/$(dirname "$rel")"
		cp "$ko" "$MODS/$rel"
	done
done <"$WORK/modules.load"
cp "$WORK/kernel/$MODDIR/modules.order" "$WORK/kernel/$MODDIR/modules.builtin" \
	"$WORK/kernel/$MODDIR/modules.builtin.modinfo" "$MODS/$MODDIR/"
depmod -b "$MODS" "$KREL"

install_busybox() { # ROOT: busybox plus one symlink per applet
	local root=$1 applet
	mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin"
	cp "$BUSYBOX" "$root/bin/busybox"
	# The host's busybox lists the applets (same version; see above).
	for applet in $(/bin/busybox --list-full); do
		[ "$applet" = bin/busybox ] && continue
		[ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done
}

make_dev_nodes() { # ROOT: what the kernel and init need before devtmpfs
	mkdir -p "$1/dev"
	mknod -m 0600 "$1/dev/console" c 5 1
	mknod -m 0666 "$1/dev/null" c 1 3
}

# ---- initramfs
log "building initramfs"
INITRD=$WORK/initramfs
mkdir -p "$INITRD"/{proc,sys,newroot,etc,lib}
install_busybox "$INITRD"
make_dev_nodes "$INITRD"
cp -a "$MODS/lib/modules" "$INITRD/lib/"
cp "$WORK/modules.load" "$INITRD/etc/initrd-modules"
install -m 0755 "$SCRIPT_DIR/initramfs/init" "$INITRD/init"
(cd "$INITRD" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --reproducible --quiet) | gzip -9n >"$WORK/out/initrd.img"

# ---- root file system
log "building root file system"
ROOT=$WORK/rootfs
mkdir -p "$ROOT"/{etc/dropbear,etc/labgate/boot.d,"lib/$LIB_TRIPLET",opt,proc,root/.ssh,run,sys,tmp,var/lib/labgate,var/log,mnt}
[ "$ARCH" != x86_64 ] || mkdir -p "$ROOT/lib64"
chmod 0700 "$ROOT/root" "$ROOT/root/.ssh"
chmod 1777 "$ROOT/tmp"
install_busybox "$ROOT"
make_dev_nodes "$ROOT"
cp -R "$SCRIPT_DIR/rootfs/." "$ROOT/"
chmod 0755 "$ROOT/etc/init.d/rcS" "$ROOT/etc/init.d/rcK" "$ROOT/usr/sbin/labgate-qemu-ga" \
	"$ROOT/usr/sbin/labgate-kmemleak-scan"
chmod 0600 "$ROOT/etc/shadow"
cp "$WORK/modules.load" "$ROOT/etc/modules"
cp -a "$MODS/lib/modules" "$ROOT/lib/"

if [ "$FOREIGN" -eq 0 ]; then
	cp "$DROPBEAR" "$ROOT/usr/sbin/dropbear"
	for lib in $DROPBEAR_LIBS; do
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
fi
# Binaries from .debs (dropbear on aarch64, qemu-ga) and their libraries.
while read -r src dest; do
	mkdir -p "$ROOT$(dirname "$dest")"
	cp -L "$src" "$ROOT$dest"
done <"$DEB_COPY"

# Keys: made once and kept in $KEY_DIR (root only), reused by every rebuild.
# PEM, ECDSA P-256: what libssh2 1.10 (OpenSSL backend) and Debian 12's dropbear
# both accept; dropbear refuses ssh-rsa with SHA-1.
if [ "$NEW_KEYS" -eq 1 ] || [ ! -s "$KEY_DIR/id_ecdsa" ] || [ ! -s "$KEY_DIR/id_ecdsa.pub" ] ||
	[ ! -s "$KEY_DIR/dropbear_ecdsa_host_key" ]; then
	log "generating SSH keys in $KEY_DIR"
	mkdir -p "$WORK/keys"
	chmod 0700 "$WORK/keys"
	ssh-keygen -q -t ecdsa -b 256 -m PEM -N '' -C labgate-harness -f "$WORK/keys/id_ecdsa"
	dropbearkey -t ecdsa -s 256 -f "$WORK/keys/dropbear_ecdsa_host_key" >/dev/null 2>&1 ||
		die "dropbearkey failed"
	rm -rf "$KEY_DIR"
	mv "$WORK/keys" "$KEY_DIR"
fi
install -m 0600 "$KEY_DIR/id_ecdsa" "$WORK/out/id_ecdsa"
install -m 0644 "$KEY_DIR/id_ecdsa.pub" "$WORK/out/id_ecdsa.pub"
install -m 0600 "$KEY_DIR/id_ecdsa.pub" "$ROOT/root/.ssh/authorized_keys"
install -m 0600 "$KEY_DIR/dropbear_ecdsa_host_key" "$ROOT/etc/dropbear/dropbear_ecdsa_host_key"
dropbearkey -y -f "$ROOT/etc/dropbear/dropbear_ecdsa_host_key" 2>/dev/null |
	awk '$1 ~ /^ecdsa-sha2-/ { print $1, $2, "labgate-guest" }' >"$WORK/out/host_key.pub"
[ -s "$WORK/out/host_key.pub" ] || die "could not read back the dropbear host public key"

log "creating ext4 image ($ROOTFS_SIZE)"
truncate -s "$ROOTFS_SIZE" "$WORK/rootfs.raw"
# Initialise inode tables and journal now, not lazily at the first boot under TCG.
mkfs.ext4 -q -F -L labgate-root -E root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0 \
	-d "$ROOT" "$WORK/rootfs.raw" || die "mkfs.ext4 failed"
qemu-img convert -f raw -O qcow2 "$WORK/rootfs.raw" "$WORK/out/rootfs.qcow2" || die "qemu-img convert failed"
rm -f "$WORK/rootfs.raw"

cp "$NEW_LOCK" "$WORK/out/packages.lock"
echo "$NEW_STAMP" >"$WORK/out/inputs.sha256"
# libvirt-qemu must be able to read everything (qemu:///system); only the
# harness's private key stays private.
find "$WORK/out" -type f -exec chmod 0644 {} +
chmod 0755 "$WORK/out"
chmod 0600 "$WORK/out/id_ecdsa"

# Swap into place: two renames on one file system; cleanup() undoes a half swap.
[ ! -e "$OUT" ] || mv "$OUT" "$PREVIOUS"
mv "$WORK/out" "$OUT"

# Warn about parents the libvirt-qemu user cannot traverse.
d=$OUT
while [ "$d" != / ]; do
	d=$(dirname "$d")
	case "$(stat -c %A "$d")" in
		*x|*t) ;;
		*) log "warning: $d is not world-traversable: QEMU under qemu:///system (libvirt-qemu) cannot open the images" ;;
	esac
done

log "built $OUT for $KREL in $(( $(date +%s) - START_S )) s"
ls -l "$OUT" >&2
