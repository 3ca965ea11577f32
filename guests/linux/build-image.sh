#!/usr/bin/env bash
# Build the small labgate Linux test guest from Debian packages.
#
# Output (default guests/linux/out/<arch>): vmlinuz, initrd.img, rootfs.qcow2,
# kernel-release, id_ecdsa(.pub), host_key.pub, packages.lock, inputs.sha256.
# See guests/linux/README.md for the guest contract the harness relies on.
set -euo pipefail
umask 022

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROG=${0##*/}
FORMAT_VERSION=1          # bump when the output layout changes
ROOTFS_SIZE=512M
LOCK_WAIT_S=900

usage() {
	cat <<EOF
Usage: $PROG [--arch x86_64] [--out DIR] [--force] [--new-keys]

Builds the labgate Linux test guest (Debian cloud kernel, busybox initramfs,
ext4 root disk with busybox + dropbear) into DIR
(default: guests/linux/out/<arch>). Must run as root on Debian 12; installs
the host packages it needs with apt-get.

  --arch ARCH   guest architecture: x86_64 (aarch64: not implemented yet)
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
OUT=
FORCE=0
NEW_KEYS=0
while [ $# -gt 0 ]; do
	case "$1" in
		--arch) [ $# -ge 2 ] || die "--arch needs a value"; ARCH=$2; shift 2 ;;
		--arch=*) ARCH=${1#--arch=}; shift ;;
		--out) [ $# -ge 2 ] || die "--out needs a value"; OUT=$2; shift 2 ;;
		--out=*) OUT=${1#--out=}; shift ;;
		--force) FORCE=1; shift ;;
		--new-keys) NEW_KEYS=1; FORCE=1; shift ;;
		-h|--help) usage; exit 0 ;;
		*) usage >&2; die "unknown argument: $1" ;;
	esac
done

# Per-architecture settings. aarch64 will need: dpkg --add-architecture arm64,
# linux-image-cloud-arm64, and busybox-static:arm64 / dropbear-bin:arm64 plus
# their libraries taken from the arm64 .debs (ldd on the host cannot resolve
# foreign binaries), and pvpanic-pci instead of pvpanic-mmio.
case "$ARCH" in
	x86_64)
		DEB_ARCH=amd64
		KERNEL_META=linux-image-cloud-amd64
		;;
	aarch64)
		die "--arch aarch64 is not implemented yet (x86_64 only for now)" ;;
	*)
		die "unsupported --arch '$ARCH' (supported: x86_64)" ;;
esac
MODULE_LIST=$SCRIPT_DIR/modules-$ARCH.list
[ -f "$MODULE_LIST" ] || die "missing module list $MODULE_LIST"

OUT=${OUT:-$SCRIPT_DIR/out/$ARCH}
mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd -P)/$(basename "$OUT")
OUT_PARENT=$(dirname "$OUT")
DEB_CACHE=${LABGATE_DEB_CACHE:-$SCRIPT_DIR/out/.cache/debs}
KEY_DIR=$OUT_PARENT/.keys-$(basename "$OUT")
OUTPUTS="vmlinuz initrd.img rootfs.qcow2 kernel-release id_ecdsa id_ecdsa.pub host_key.pub packages.lock"

# ---------------------------------------------------------------- cache stamp

# Everything under guests/linux/ except out/ (this script included).
source_digest() {
	(cd "$SCRIPT_DIR" &&
		find . -path ./out -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}

# stamp LOCKFILE: hash over the sources and the exact package versions.
stamp() {
	{
		echo "labgate-guest format $FORMAT_VERSION arch $ARCH rootfs $ROOTFS_SIZE"
		source_digest
		cat "$1"
	} | sha256sum | cut -d' ' -f1
}

outputs_complete() {
	local f
	for f in $OUTPUTS inputs.sha256; do
		[ -s "$OUT/$f" ] || return 1
	done
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

ensure_host_packages busybox-static dropbear-bin openssh-client e2fsprogs qemu-utils cpio kmod gzip util-linux

if ! apt-cache show "$KERNEL_META" >/dev/null 2>&1; then
	log "apt-cache does not know $KERNEL_META: running apt-get update"
	apt-get update -q >&2 || die "apt-get update failed"
fi

# linux-image-cloud-amd64 (meta) -> linux-image-6.1.0-NN-cloud-amd64 (concrete).
KERNEL_PKG=$(apt-cache depends "$KERNEL_META" 2>/dev/null |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
[ -n "$KERNEL_PKG" ] || die "cannot resolve the kernel package behind $KERNEL_META (apt-cache depends)"
KERNEL_VER=$(apt-cache policy "$KERNEL_PKG" | awk '$1 == "Candidate:" { print $2; exit }')
[ -n "$KERNEL_VER" ] && [ "$KERNEL_VER" != "(none)" ] || die "no installable version of $KERNEL_PKG"

BUSYBOX=/bin/busybox
DROPBEAR=/usr/sbin/dropbear
file_from_pkg() { dpkg -L "$1" | grep -qx "$2"; }
file_from_pkg busybox-static "$BUSYBOX" || die "$BUSYBOX is not from busybox-static"
file_from_pkg dropbear-bin "$DROPBEAR" || die "$DROPBEAR is not from dropbear-bin"

# Shared libraries of dropbear as the host resolves them (same Debian release).
DROPBEAR_LIBS=$(ldd "$DROPBEAR" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | LC_ALL=C sort -u)
[ -n "$DROPBEAR_LIBS" ] || die "ldd $DROPBEAR found no libraries"

pkg_version() { dpkg-query -W -f='${Version}' "$1"; }
lib_package() {
	local p
	p=$(dpkg -S "$1" 2>/dev/null || dpkg -S "$(readlink -f "$1")" 2>/dev/null) || { echo unknown; return; }
	echo "${p%%:*}"
}

NEW_LOCK=$(mktemp "$OUT_PARENT/.packages-$ARCH.XXXXXX")
trap 'rm -f "$NEW_LOCK"' EXIT
{
	echo "# package version (source) -- written by $PROG"
	echo "$KERNEL_PKG $KERNEL_VER apt-get-download"
	echo "busybox-static $(pkg_version busybox-static) host"
	echo "dropbear-bin $(pkg_version dropbear-bin) host"
	for lib in $DROPBEAR_LIBS; do
		p=$(lib_package "$lib")
		echo "$p $( [ "$p" = unknown ] || pkg_version "$p") host-lib:$lib"
	done | LC_ALL=C sort -u
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
	rm -rf "$WORK" "$NEW_LOCK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
chmod 0755 "$WORK"
mkdir -p "$WORK/out" "$DEB_CACHE"

# Kernel .deb (cached; apt verified its hash when downloading it).
DEB=
for f in "$DEB_CACHE/${KERNEL_PKG}_"*"_$DEB_ARCH.deb"; do
	[ -f "$f" ] && [ "$(dpkg-deb -f "$f" Version)" = "$KERNEL_VER" ] && DEB=$f
done
if [ -z "$DEB" ]; then
	log "downloading $KERNEL_PKG=$KERNEL_VER"
	dl=$(mktemp -d "$DEB_CACHE/.dl.XXXXXX")
	# apt drops privileges to _apt for downloads when it can write there.
	chown _apt "$dl" 2>/dev/null || true
	(cd "$dl" && apt-get download -q "$KERNEL_PKG=$KERNEL_VER" >&2) || { rm -rf "$dl"; die "apt-get download $KERNEL_PKG=$KERNEL_VER failed"; }
	DEB=$(find "$dl" -name '*.deb' | head -n1)
	[ -n "$DEB" ] || die "apt-get download produced no .deb"
	mv "$DEB" "$DEB_CACHE/"
	DEB=$DEB_CACHE/${DEB##*/}
	rm -rf "$dl"
fi

log "extracting ${DEB##*/}"
dpkg-deb -x "$DEB" "$WORK/kernel"
KREL=$(ls "$WORK/kernel/lib/modules")
[ "$(echo "$KREL" | wc -l)" -eq 1 ] || die "expected one module tree in $DEB, found: $KREL"
[ "linux-image-$KREL" = "$KERNEL_PKG" ] || die "package $KERNEL_PKG ships modules for $KREL"
cp "$WORK/kernel/boot/vmlinuz-$KREL" "$WORK/out/vmlinuz"
echo "$KREL" >"$WORK/out/kernel-release"

# Minimal module tree: the listed modules and their dependencies.
log "selecting modules for $KREL"
depmod -b "$WORK/kernel" "$KREL"
MODS=$WORK/modtree
MODDIR=lib/modules/$KREL
mkdir -p "$MODS/$MODDIR"
grep -v '^[[:space:]]*\(#\|$\)' "$MODULE_LIST" >"$WORK/modules.load"
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
	for applet in $("$BUSYBOX" --list-full); do
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
mkdir -p "$ROOT"/{etc/dropbear,etc/labgate/boot.d,lib/x86_64-linux-gnu,lib64,opt,proc,root/.ssh,run,sys,tmp,var/lib/labgate,var/log,mnt}
chmod 0700 "$ROOT/root" "$ROOT/root/.ssh"
chmod 1777 "$ROOT/tmp"
install_busybox "$ROOT"
make_dev_nodes "$ROOT"
cp -R "$SCRIPT_DIR/rootfs/." "$ROOT/"
chmod 0755 "$ROOT/etc/init.d/rcS" "$ROOT/etc/init.d/rcK"
chmod 0600 "$ROOT/etc/shadow"
cp "$WORK/modules.load" "$ROOT/etc/modules"
cp -a "$MODS/lib/modules" "$ROOT/lib/"

cp "$DROPBEAR" "$ROOT/usr/sbin/dropbear"
for lib in $DROPBEAR_LIBS; do
	mkdir -p "$ROOT$(dirname "$lib")"
	cp -L "$lib" "$ROOT$lib"
done

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
