#!/bin/sh
# Builds the small ISO that turns a stock Windows install into a labgate guest:
# autounattend.xml at its root (Windows Setup looks there) and the labgate/
# folder with the setup script and the public key labgate logs in with.
#
#   guests/windows/make-setup-media.sh [--arch x86_64|aarch64] [--out DIR] [--openssh-msi FILE]
#
# Writes DIR/setup.iso and, once, the key pair DIR/id_ecdsa{,.pub} (kept across
# runs so a rebuilt image still accepts the same key). DIR defaults to
# guests/windows/out/<arch>. Needs xorriso and ssh-keygen (openssh-client).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
arch=x86_64
out=
openssh_msi=

usage() {
    sed -n '2,10s/^# \{0,1\}//p' "$0"
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
        --arch) arch=${2:?}; shift 2 ;;
        --out) out=${2:?}; shift 2 ;;
        --openssh-msi) openssh_msi=${2:?}; shift 2 ;;
        -h|--help) usage ;;
        *) echo "make-setup-media: unknown argument: $1" >&2; usage ;;
    esac
done
case $arch in
    x86_64|aarch64) ;;
    *) echo "make-setup-media: --arch must be x86_64 or aarch64" >&2; exit 2 ;;
esac
[ -n "$out" ] || out=$here/out/$arch

for tool in xorriso ssh-keygen; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "make-setup-media: $tool not found (apt-get install xorriso openssh-client)" >&2
        exit 1
    }
done

mkdir -p "$out"
# ECDSA P-256 in PEM, the same kind of key the Linux guests use: libssh2
# builds without OpenSSH-format key support still read it.
if [ ! -f "$out/id_ecdsa" ]; then
    ssh-keygen -q -t ecdsa -b 256 -m PEM -N '' -C "labgate-windows-$arch" -f "$out/id_ecdsa"
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/labgate"
cp "$here/autounattend.xml" "$stage/"
cp "$here/labgate-setup.ps1" "$stage/labgate/"
cp "$out/id_ecdsa.pub" "$stage/labgate/authorized_keys"
if [ -n "$openssh_msi" ]; then
    cp "$openssh_msi" "$stage/labgate/"
fi
# Joliet for long mixed-case names as Windows shows them; Rock Ridge so that
# Linux tools list the same names. The volume label is what Explorer shows.
xorriso -as mkisofs -quiet -J -joliet-long -r -V LABGATE_SETUP \
    -o "$out/setup.iso.tmp" "$stage"
mv "$out/setup.iso.tmp" "$out/setup.iso"
# QEMU under qemu:///system runs as libvirt-qemu and must read the ISO.
chmod 0644 "$out/setup.iso"
echo "$out/setup.iso"
