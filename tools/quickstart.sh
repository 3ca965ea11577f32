#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) and runs the labgate demo or the
# whole test suite. Every step is idempotent: a second run skips what is done.
#
#   tools/quickstart.sh demo   the gate blocking a crashing content file
#   tools/quickstart.sh test   every test suite; ends with "N passed, N failed"
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

log() { printf 'quickstart: %s\n' "$*" >&2; }
die() { printf 'quickstart: error: %s\n' "$*" >&2; exit 2; }

usage() {
	sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

mode=${1:-}
case "$mode" in
demo | test) ;;
-h | --help) usage; exit 0 ;;
*) usage >&2; exit 2 ;;
esac

[ "$(id -u)" -eq 0 ] || die "run as root: it installs Debian packages and talks to qemu:///system"
[ -r /etc/debian_version ] || die "this script sets up Debian 12 machines"

packages=(
	# build
	meson ninja-build pkg-config gcc clang libc6-dev python3
	# the libFuzzer and sanitizer runtime for the fuzz build
	libclang-rt-14-dev
	libvirt-dev libssh2-1-dev libxml2-dev libcmocka-dev libglib2.0-dev libjson-glib-dev
	# run
	libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu
	qemu-system-x86 qemu-system-arm qemu-utils libxml2-utils
	# a reaping parent for libvirtd where there is no systemd (tools/start-libvirtd.sh)
	tini
	# the stress commands' options are checked against the guest's stress-ng
	stress-ng
	# UEFI with secure boot and a TPM for the Windows profiles
	ovmf qemu-efi-aarch64 swtpm swtpm-tools
	# guest images and the sample agent (the build scripts add the kernel headers)
	busybox-static dropbear-bin cpio kmod e2fsprogs openssh-client make xz-utils zstd file
	binutils gcc-aarch64-linux-gnu
	# the second host of e2e-remote: an sshd the test starts on a loopback port
	# (the package's own sshd is kept from starting: see install_packages)
	openssh-server
	# syntax checks
	shellcheck
	# report.html rendering test
	chromium poppler-utils
)

install_packages() {
	local missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	apt-get update -q >&2
	# No package may start its service (openssh-server would start an sshd
	# on port 22): a policy that refuses every start, unless the system
	# has one already (a container's usually does).
	local policy=/usr/sbin/policy-rc.d own_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && own_policy=1
	fi
	local rc=0
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || rc=$?
	[ -n "$own_policy" ] && rm -f "$policy"
	return $rc
}

# Debian's udev rule makes /dev/kvm 0660 root:kvm. Where udev does not run
# (containers, these CI machines) it stays 0600 root, and libvirt then finds
# KVM when it probes QEMU but not when it checks its cache, so it re-probes
# QEMU on every domain start (about a minute each). Apply the rule by hand,
# before libvirtd starts. Whether KVM really works is labgate's own concern
# (accel="auto" proves it by booting a guest).
fix_kvm_node() {
	[ -c /dev/kvm ] || return 0
	getent group kvm >/dev/null || return 0
	if [ "$(stat -c '%G %a' /dev/kvm)" != "kvm 660" ]; then
		log "making /dev/kvm 0660 root:kvm as Debian's udev rule would"
		chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
	fi
}

# libvirt runs swtpm_setup as tss (root if tss did not exist when libvirtd
# started), and it keeps its local CA in /var/lib/swtpm-localca, which
# swtpm-tools' postinst makes tss:root 0750. A swtpm_setup that once ran as
# root may have made it root's instead; then every guest with a TPM fails to
# start ("Need read/write rights on statedir ... for user tss"). Put it back
# as the package has it.
fix_swtpm_localca() {
	local dir=/var/lib/swtpm-localca
	getent passwd tss >/dev/null || return 0
	if [ ! -d "$dir" ] || [ -n "$(find "$dir" ! -user tss -print -quit)" ]; then
		log "giving $dir to tss, as swtpm-tools' postinst does"
		mkdir -p "$dir"
		chown -R tss:root "$dir"
		chmod 0750 "$dir"
	fi
}

start_libvirt() {
	if timeout 30 virsh -c qemu:///system version >/dev/null 2>&1; then
		return 0
	fi
	log "starting libvirtd"
	if [ -d /run/systemd/system ]; then
		systemctl start virtlogd.socket libvirtd.socket libvirtd.service >&2 || true
	fi
	if ! timeout 10 virsh -c qemu:///system version >/dev/null 2>&1; then
		# as systemd would: a clean environment and a parent that reaps
		"$top/tools/start-libvirtd.sh"
	fi
	for _ in $(seq 1 30); do
		timeout 10 virsh -c qemu:///system version >/dev/null 2>&1 && return 0
		sleep 1
	done
	die "libvirtd did not come up (see /var/log/libvirt/libvirtd.log)"
}

build_labgate() {
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >&2
	fi
	meson compile -C "$dir" >&2
}

build_guests() {
	local arch
	for arch in "$@"; do
		guests/linux/build-image.sh --arch "$arch"
		guests/sample-agent/build.sh --arch "$arch"
	done
}

# QEMU runs as libvirt-qemu under qemu:///system and opens the guest images
# in this checkout: every directory above it must be searchable by others.
check_reachable() {
	local dir=$top
	while [ "$dir" != / ]; do
		# other-execute bit of the octal mode (the letter form shows 't' on /tmp)
		if (((8#$(stat -c '%a' "$dir") & 1) == 0)); then
			die "QEMU (user libvirt-qemu) cannot reach this checkout: $dir is not searchable by others. Clone labgate elsewhere (e.g. under /srv or /opt) or chmod o+x $dir"
		fi
		dir=$(dirname "$dir")
	done
}

check_reachable
install_packages
fix_kvm_node
fix_swtpm_localca
start_libvirt
log "building labgate"
build_labgate build
if [ "$mode" = demo ]; then
	log "building the guest image and the sample agent"
	build_guests x86_64
else
	log "building the guest images (x86_64, aarch64) and the sample agent"
	build_guests x86_64 aarch64
	# the first time: the kernel from linux-source-6.1 (about 10 min on 2
	# cores), cached outside the checkout in /var/cache/labgate/kernels
	log "building the debug guest (KASAN, KFENCE, lockdep, kmemleak, UBSAN kernel) and its sample agent"
	guests/linux/build-image.sh --kernel debug
	guests/sample-agent/build.sh --image-dir guests/linux/out/x86_64-debug
fi

if [ "$mode" = demo ]; then
	out=results/demo-$(date -u +%Y%m%d-%H%M%S)
	log "running matrix/demo.xml: good and faulty content on an x86-64 guest (a few minutes under TCG)"
	rc=0
	./build/labgate run matrix/demo.xml --out "$out" || rc=$?
	echo
	if [ "$rc" -eq 1 ]; then
		echo "labgate exited 1: RELEASE BLOCKED. That is the demo working: the faulty content"
		echo "crashed the guest's kernel. Sign-off page: $out/report.html; evidence: $out/run.xml, $out/jobs/*/console.log"
		exit 0
	fi
	echo "labgate exited $rc; the demo expects 1 (release blocked). See $out/run.xml"
	exit 1
fi

# ---------------------------------------------------------------- test mode
log "building the sanitizer (ASan+UBSan) build"
build_labgate build-asan -Db_sanitize=address,undefined -Db_lundef=false -De2e=false
# clang refuses what gcc lets through, such as a goto that skips a cleanup
# variable's initialization; warnings are errors in both (werror=true)
log "building with clang"
CC=clang build_labgate build-clang -De2e=false
# libFuzzer targets for the parsers of untrusted input, ASan+UBSan throughout
log "building the fuzz targets"
CC=clang build_labgate build-fuzz -Dfuzz=true -De2e=false

status=0
log "unit, syntax and end-to-end suites (the end-to-end tests boot real guests under TCG)"
meson test -C build --print-errorlogs --num-processes 2 >&2 || status=1
log "unit suites again under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-asan --suite unit --print-errorlogs --num-processes 2 >&2 || status=1
log "unit suites again as built by clang"
meson test -C build-clang --suite unit --print-errorlogs --num-processes 2 >&2 || status=1

log "fuzzing each parser for 30 s on its seed corpus"
meson test -C build-fuzz --suite fuzz --print-errorlogs --num-processes 2 >&2 || status=1

# Every cmocka case and every end-to-end check is a TAP line; count them
# across the builds (each fuzz target counts as one).
python3 tools/count-tests.py build/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
	build-clang/meson-logs/testlog.json build-fuzz/meson-logs/testlog.json || status=1
exit "$status"
