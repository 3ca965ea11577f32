#!/usr/bin/env bash
# labgate gc: a harness killed with SIGKILL leaves its domain and overlay
# volume behind; gc finds them by labgate's metadata and the run's dead lock, lists
# them with --dry-run, removes them, and never touches a live run's domain.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}

make_matrix "$scratch/m.xml" '<wait-ready/><exec command="sleep 300" timeout-s="400"/>'
"$LABGATE" run "$scratch/m.xml" --out "$scratch/out" >"$scratch/run.out" 2>"$scratch/run.err" &
harness=$!
# the domain is defined and the guest boots
name=
for _ in $(seq 1 120); do
	name=$(sed -n 's/.*starting \(labgate-[0-9-]*-[0-9a-f]*\)\( .*\)\{0,1\}$/\1/p' "$scratch/run.err" | head -n 1)
	[ -n "$name" ] && grep -q 'step 2/2' "$scratch/run.err" && break
	sleep 1
done
ok "$(test -n "$name"; echo $?)" "the run started a domain ($name)"
run_id=$(echo "$name" | sed 's/^labgate-\(.*\)-[0-9a-f]*$/\1/')

out=$(timeout 60 "$LABGATE" gc --dry-run --uri "$URI"); ok $? "gc --dry-run exits 0"
case "$out" in *"$name"*) ok 1 "a live run's domain is left alone" ;; *) ok 0 "a live run's domain is left alone" ;; esac

kill -KILL "$harness"
wait "$harness" 2>/dev/null
is "$(domains_matching "$name")" "$name" "SIGKILL left the domain behind"
overlay=$(virsh -c "$URI" vol-path --pool labgate "$name.qcow2" 2>/dev/null)
ok "$(test -n "$overlay"; echo $?)" "and its overlay volume in the labgate pool"
is "$(virsh -c "$URI" vol-dumpxml --pool labgate "$name.qcow2" 2>/dev/null | xmllint --xpath 'string(/volume/target/permissions/mode)' - 2>/dev/null)" \
	0600 "the overlay is readable by nobody but its owner"
is "$(find "$LABGATE_STATE_DIR" -name '*.qcow2')" "" "no overlay file is in the local state directory"
is "$(stat -c '%a %U' "$LABGATE_STATE_DIR")" "711 root" "labgate made the state directory root's, 0711"
log=$(find "$scratch/out/jobs" -name console.log | head -n 1)
ok "$(test -s "$log"; echo $?)" "and a partial console log (no run.xml was written)"

out=$(timeout 60 "$LABGATE" gc --dry-run --uri "$URI"); ok $? "gc --dry-run exits 0"
contains "$out" "would remove domain $name (run $run_id" "gc --dry-run lists the killed run's domain"
contains "$out" "would remove overlay volume $overlay" "and its overlay volume"
contains "$out" "would remove console log $log" "and the killed run's console log"
is "$(domains_matching "$name")" "$name" "--dry-run removes nothing"

out=$(timeout 120 "$LABGATE" gc --uri "$URI"); ok $? "gc exits 0"
contains "$out" "removed domain $name" "gc says it removed the domain"
contains "$out" "removed overlay volume $overlay" "and its overlay volume"
ok "$(test ! -e "$log"; echo $?)" "the console log is gone"
assert_no_leftovers "$run_id"
is "$(find "$LABGATE_STATE_DIR" -name 'run-*.lock')" "" "no stale run lock is left"
out=$(timeout 60 "$LABGATE" gc --uri "$URI"); ok $? "a second gc exits 0"
contains "$out" "nothing to clean up" "and finds nothing"

# a lock naming results another user owns: gc believes none of it
mkdir -p "$scratch/theirs/jobs/j"
echo partial >"$scratch/theirs/jobs/j/console.log"
chown -R nobody "$scratch/theirs"
echo "$scratch/theirs" >"$LABGATE_STATE_DIR/run-planted.lock"
out=$(timeout 60 "$LABGATE" gc --uri "$URI" 2>&1); is $? 3 "gc refuses results it does not own (exit 3)"
contains "$out" "$scratch/theirs" "and names them"
ok "$(test -e "$scratch/theirs/jobs/j/console.log"; echo $?)" "and leaves their console log alone"
done_testing
