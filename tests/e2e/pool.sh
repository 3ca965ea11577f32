#!/usr/bin/env bash
# Disks through libvirt's storage pool: the first run uploads the guest's
# images into the host's labgate pool (named by digest, listed in run.xml),
# a second run uploads nothing; the job's overlay is a 0600 volume of that
# pool, never a file in the local state directory, and is gone after the
# run; gc --images-older-than 0 removes the image volumes.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}

# a disk of its own (the guest's, with bytes no other run has after its
# end: qcow2 ignores them), so this test's first upload is its own
src=$LG_SOURCE_DIR/guests/linux/out/x86_64/rootfs.qcow2
cp --sparse=always "$src" "$scratch/rootfs.qcow2"
printf 'labgate e2e pool %s %s\n' "$$" "$(date +%s%N)" >>"$scratch/rootfs.qcow2"
disk_sha=$(sha256sum "$scratch/rootfs.qcow2" | cut -d' ' -f1)
disk_vol=sha256-$disk_sha
edited_profile "$scratch/p.xml" "s|\"../linux/out/x86_64/rootfs.qcow2\"|\"$scratch/rootfs.qcow2\"|"
make_matrix "$scratch/m.xml" '<wait-ready/><exec command="sleep 4" timeout-s="60"/>'
use_profile "$scratch/m.xml" "$scratch/p.xml"

# run 1, watched while its guest runs
"$LABGATE" run "$scratch/m.xml" --out "$scratch/out1" >"$scratch/run1.out" 2>"$scratch/run1.err" &
harness=$!
overlay=
for _ in $(seq 1 240); do
	overlay=$(pool_volumes | grep -E '^labgate-.*\.qcow2$' | head -n 1)
	[ -n "$overlay" ] && grep -q 'step 2/2' "$scratch/run1.err" && break
	sleep 0.5
done
ok "$(test -n "$overlay"; echo $?)" "the running job's overlay is a volume of the labgate pool ($overlay)"
is "$(virsh -c "$URI" vol-dumpxml --pool labgate "$overlay" 2>/dev/null | xmllint --xpath 'string(/volume/target/permissions/mode)' - 2>/dev/null)" \
	"0600" "the overlay volume is mode 0600"
is "$(virsh -c "$URI" vol-dumpxml --pool labgate "$overlay" 2>/dev/null | xmllint --xpath 'string(/volume/backingStore/path)' - 2>/dev/null | xargs basename 2>/dev/null)" \
	"$disk_vol" "it is backed by the disk's digest-named volume"
is "$(find "$LABGATE_STATE_DIR" -name '*.qcow2' | head -5)" "" "no overlay file appears in the local state directory"
wait "$harness"; rc=$?
is "$rc" 0 "run 1 passes" || diag_file "$scratch/run1.err"
run1=$scratch/out1/run.xml
run_id=$(xpath "$run1" 'string(/run/@id)')
is "$(xpath "$run1" "string(/run/host-images[@host='local']/image[@volume='$disk_vol']/@action)")" "uploaded" \
	"run 1 uploaded the disk (run.xml names its volume)"
is "$(xpath "$run1" "count(/run/host-images[@host='local']/image)")" 3 "run.xml lists disk, kernel and initramfs"
contains "$(cat "$scratch/run1.err")" "uploading $scratch/rootfs.qcow2 to $URI:" "the upload is shown as it goes"
assert_no_leftovers "$run_id"
is "$(pool_volumes | grep -v '^sha256-[0-9a-f]\{64\}$' | grep -F -- "-$run_id-")" "" \
	"nothing of the run is left in the pool but digest-named images"
ok "$(pool_volumes | grep -qx "$disk_vol"; echo $?)" "the disk's volume stays for the next run"

"$LABGATE" run "$scratch/m.xml" --out "$scratch/out2" >"$scratch/run2.out" 2>"$scratch/run2.err"
is $? 0 "run 2 passes" || diag_file "$scratch/run2.err"
run2=$scratch/out2/run.xml
is "$(xpath "$run2" "count(/run/host-images/image[@action='uploaded'])")" 0 "run 2 uploads nothing"
is "$(xpath "$run2" "count(/run/host-images/image[@action='reused'])")" 3 "and reuses the three images"
contains "$(cat "$scratch/run2.out")" "host local: 0 image(s) uploaded (0.0 MiB in 0.0 s), 3 reused from its storage pool" \
	"the summary says so"
assert_no_leftovers "$(xpath "$run2" 'string(/run/@id)')"

out=$(timeout 120 "$LABGATE" gc --uri "$URI" --dry-run); ok $? "gc --dry-run exits 0"
case "$out" in *"$disk_vol"*) ok 1 "images used today are kept by default (14 days)" ;;
*) ok 0 "images used today are kept by default (14 days)" ;; esac
out=$(timeout 120 "$LABGATE" gc --uri "$URI" --images-older-than 0); ok $? "gc --images-older-than 0 exits 0"
contains "$out" "removed image volume" "gc says it removed image volumes"
contains "$out" "$disk_vol (last used 0.0 days ago)" "among them the disk's, with when it was last used"
is "$(pool_volumes | grep -c '^sha256-')" 0 "no image volume is left in the pool"
out=$(timeout 60 "$LABGATE" gc --uri "$URI" --images-older-than x 2>&1); is $? 2 "a bad --images-older-than exits 2"
done_testing
