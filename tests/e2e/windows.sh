#!/usr/bin/env bash
# The Windows x86-64 profile as far as it can go without Windows: no Windows
# image exists on these machines, so the job boots an empty disk.  The domain
# must really start with OVMF (secure boot, Microsoft keys), SMM and a swtpm
# TPM 2.0, reach the firmware (its output on the serial console, a
# screenshot), end in BOOT_TIMEOUT, and leave no varstore or TPM state behind.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}
src=$LG_SOURCE_DIR

qemu-img create -q -f qcow2 "$scratch/empty-windows.qcow2" 1G
sed "s|/var/lib/labgate/images/windows-x86_64.qcow2|$scratch/empty-windows.qcow2|" \
	"$src/guests/profiles/windows-x86_64.xml" >"$scratch/windows-x86_64.xml"
cat >"$scratch/win.xml" <<XML
<?xml version="1.0"?>
<matrix name="windows-firmware">
  <hosts><host id="local" uri="$URI" slots="1"/></hosts>
  <guests><guest id="windows-x86_64" profile="$scratch/windows-x86_64.xml"/></guests>
  <builds><build id="agent" dir="$src/guests/sample-agent/out/x86_64/sample-agent-1.0" status="candidate"/></builds>
  <contents><content id="good" dir="$src/guests/sample-agent/content/good"/></contents>
  <scenarios><scenario id="boot"><wait-ready/></scenario></scenarios>
  <policy boot-timeout-s="40" tcg-scale="1" crash-grace-s="1"/>
</matrix>
XML
swtpm_before=$(find /var/lib/libvirt/swtpm -mindepth 1 -maxdepth 1 2>/dev/null | sort)
"$LABGATE" run "$scratch/win.xml" --out "$scratch/win" >"$scratch/win.out" 2>&1
is "$?" 1 "a guest that never becomes ready blocks the release (exit 1)"
run=$scratch/win/run.xml
verdict=$(xpath "$run" 'string(/run/job/@verdict)')
is "$verdict" BOOT_TIMEOUT "no Windows on the disk: BOOT_TIMEOUT"
run_id=$(xpath "$run" 'string(/run/@id)')
job_id=$(xpath "$run" 'string(/run/job/@id)')
name=labgate-$run_id-$job_id
qlog=$scratch/win/jobs/$job_id/qemu.log
tpmlog=$scratch/win/jobs/$job_id/swtpm.log
if [ "$verdict" != BOOT_TIMEOUT ]; then
	diag_file "$scratch/win.out"
	diag_file "$qlog" 30
	diag_file "$tpmlog" 30
fi
is "$(xpath "$run" 'string(/run/job/artifact[@kind="qemu-log"]/@path)')" "jobs/$job_id/qemu.log" \
	"run.xml lists QEMU's log as an artifact"
[ -s "$qlog" ] && [ ! -e "/var/log/libvirt/qemu/$name.log" ]
ok $? "the job took libvirt's QEMU log into its results"
contains "$(cat "$tpmlog")" "Successfully authored TPM state" "and swtpm's log of manufacturing the TPM"
# one start per domain name: the log holds that one QEMU command line
cmdline=$(tr -d '\\\n' <"$qlog")
contains "$cmdline" "smm=on" "QEMU ran with SMM (secure boot's varstore protection)"
contains "$cmdline" "OVMF_CODE_4M.ms.fd" "QEMU ran OVMF's secure-boot build with Microsoft's keys"
contains "$cmdline" "driver=cfi.pflash01,property=secure,value=on" "the firmware flash is secure"
contains "$cmdline" "tpm-crb" "QEMU had a TPM (CRB)"
contains "$cmdline" "-tpmdev emulator" "backed by swtpm"
contains "$cmdline" "hv-relaxed" "with the Hyper-V enlightenments QEMU takes under TCG"
case "$cmdline" in *hv-vpindex*) ok 1 "no vpindex under TCG (QEMU refuses it there)" ;;
	*) ok 0 "no vpindex under TCG (QEMU refuses it there)" ;; esac
console=$scratch/win/$(xpath "$run" 'string(/run/job/artifact[@kind="console"]/@path)')
contains "$(tr -d '\r' <"$console")" "BdsDxe" "the firmware ran: its boot manager wrote to the serial console"
shot=$scratch/win/$(xpath "$run" 'string(/run/job/artifact[@kind="screenshot"]/@path)')
contains "$(file "$shot")" "PNG image data" "a screenshot of the firmware screen is kept"
is "$(ls /var/lib/libvirt/qemu/nvram/"$name"* 2>/dev/null)" "" "the domain's UEFI varstore is removed"
is "$(find /var/lib/libvirt/swtpm -mindepth 1 -maxdepth 1 2>/dev/null | sort)" "$swtpm_before" "the domain's TPM state is removed"
assert_no_leftovers "$run_id"
done_testing
