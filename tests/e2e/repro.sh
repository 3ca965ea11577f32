#!/usr/bin/env bash
# labgate repro: the same job again (same profile, build, content, scenario,
# seed) says whether the crash reproduced; --keep leaves the crashed VM and
# says how to attach and clean up; --until-fail repeats and gives a hit rate.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}
content=$LG_SOURCE_DIR/guests/sample-agent/content
TITLE="BUG: kernel NULL pointer dereference in sampledrv_parse_record"

make_matrix "$scratch/m.xml" '<wait-ready/><install/><apply-content/>' \
	"<content id=\"good\" dir=\"$content/good\"/><content id=\"faulty\" dir=\"$content/faulty\"/>"
"$LABGATE" run "$scratch/m.xml" --out "$scratch/run" >/dev/null 2>&1
is "$?" 1 "the original run is blocked by the faulty content"
run=$scratch/run/run.xml
faulty=$(xpath "$run" 'string(/run/job[@content="faulty"]/@id)')
good=$(xpath "$run" 'string(/run/job[@content="good"]/@id)')

out=$("$LABGATE" repro "$scratch/run" "$faulty" 2>"$scratch/repro.err")
is "$?" 0 "repro of the crash exits 0: it reproduced"
contains "$out" "originally CRASH: $TITLE" "repro says what the original verdict was"
contains "$out" "attempt 1: CRASH: $TITLE -> REPRODUCED" "and that the same crash came again"
rrun=$scratch/run/repro-$faulty/1/run.xml
is "$(xpath "$rrun" 'count(/run/job)')" 1 "repro ran that one job"
is "$(xpath "$rrun" 'string(/run/job/@id)')" "$faulty" "with the same job id"
is "$(xpath "$rrun" 'string(/run/job/@seed)')" "$(xpath "$run" "string(/run/job[@id='$faulty']/@seed)")" "and the same seed"
assert_no_leftovers "$(xpath "$rrun" 'string(/run/@id)')"

out=$("$LABGATE" repro "$scratch/run" "$faulty" --keep --out "$scratch/keep" 2>/dev/null)
is "$?" 0 "repro --keep exits 0"
name=$(echo "$out" | sed -n 's/^The VM is kept: //p')
ok "$(test -n "$name"; echo $?)" "repro --keep names the VM it kept ($name)"
contains "$(virsh -c "$URI" domstate --reason "$name" 2>&1)" "crashed" "the kept VM is there, as the crash left it"
contains "$out" "ssh -i $LG_SOURCE_DIR/guests/linux/out/x86_64/id_ecdsa -p " "it prints the ssh command with key and port"
contains "$out" "virsh -c $URI console $name" "the console command"
contains "$out" "labgate gc" "and how to clean up"
gc_out=$(timeout 120 "$LABGATE" gc --uri "$URI")
contains "$gc_out" "removed domain $name" "labgate gc removes the kept VM"
is "$(domains_matching "$name")" "" "nothing of it is left"
is "$(find "$LABGATE_STATE_DIR" -name '*.qcow2' | head -1)" "" "nor its overlay"
is "$(pool_volumes | grep -F -- "$name.qcow2")" "" "nor its overlay volume in the labgate pool"

out=$("$LABGATE" repro "$scratch/run" "$faulty" --until-fail 5 --out "$scratch/uf" 2>/dev/null)
is "$?" 0 "repro --until-fail exits 0 when the failure came"
contains "$out" "hit rate: 1 failure(s) in 1 run(s)" "it stops at the first failure and gives the hit rate"
contains "$out" "observed rate 1.0000, 95 % interval [0.0250, 1.0000] (Clopper-Pearson, exact)" \
	"with the exact interval of the rate"
out=$("$LABGATE" repro "$scratch/run" "$good" --until-fail 2 --out "$scratch/ufg" 2>/dev/null)
is "$?" 0 "a passing job passes again (reproduced: PASS)"
contains "$out" "hit rate: 0 failure(s) in 2 run(s)" "--until-fail 2 on good content: 0 in 2"
contains "$out" "observed rate 0.0000, 95 % interval [0.0000, 0.8419]" "0 in 2 leaves the rate anywhere below 0.84"

# nightly: yesterday's run had only the good job (the repro above), today's
# adds the faulty content: compare names the new failure by job id and title
out=$("$LABGATE" compare "$scratch/ufg/1" "$scratch/run" 2>&1)
is "$?" 1 "compare exits 1 when the new run has a new failure"
contains "$out" "NEW FAILURES (1)" "compare lists one new failure"
contains "$out" "$faulty" "by its job id"
contains "$out" "$TITLE" "with its crash title"
out=$("$LABGATE" compare "$scratch/run" "$scratch/run/repro-$faulty/1" 2>&1)
is "$?" 0 "compare of the run and its repro: nothing new"
contains "$out" "STILL FAILING (1)" "the crash is still failing"
"$LABGATE" repro "$scratch/run" 0123456789ab >/dev/null 2>&1
is "$?" 2 "an unknown job id exits 2"
"$LABGATE" repro "$scratch/nowhere" "$faulty" >/dev/null 2>&1
is "$?" 2 "a directory without run.xml exits 2"
done_testing
