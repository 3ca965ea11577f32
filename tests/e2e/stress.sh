#!/usr/bin/env bash
# The <stress> step on the x86-64 guest: every kind with the good content in
# one job (one boot) passes; the process-storm fault (content/proc-storm) is
# found by a process stress (CRASH in the driver's function) and missed by
# boot and reboot alone.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}
content_dir=$LG_SOURCE_DIR/guests/sample-agent/content
contents() { for c in "$@"; do printf '<content id="%s" dir="%s/%s"/>' "$c" "$content_dir" "$c"; done; }

kinds="process file network memory cpu io"
steps='<wait-ready/><install/><apply-content/>'
for k in $kinds; do steps="$steps<stress kind=\"$k\" seconds=\"5\"/>"; done
make_matrix "$scratch/stress.xml" "$steps" "$(contents good proc-storm)"
# proc-storm: a process storm (scenario storm) and a plain boot and reboot (plain)
sed -i 's|<scenarios><scenario id="s">|<scenarios><scenario id="storm"><wait-ready/><install/><apply-content/><stress kind="process" seconds="20"/></scenario><scenario id="plain"><wait-ready/><install/><apply-content/><reboot count="1"/></scenario><scenario id="s">|' "$scratch/stress.xml"
sed -i 's|</scenarios>|</scenarios><exclude content="good" scenario="storm"/><exclude content="good" scenario="plain"/><exclude content="proc-storm" scenario="s"/>|' "$scratch/stress.xml"
"$LABGATE" validate "$scratch/stress.xml" >/dev/null
ok $? "a matrix with every stress kind is valid"

start=$(date +%s)
"$LABGATE" run "$scratch/stress.xml" --out "$scratch/run" >"$scratch/run.out" 2>"$scratch/run.err"
is "$?" 1 "the process-storm fault blocks the release (exit 1)"
echo "# run took $(($(date +%s) - start)) s"
run=$scratch/run/run.xml
is "$(xpath "$run" 'count(/run/job)')" 3 "three jobs"

good='/run/job[@content="good"]'
is "$(xpath "$run" "string($good/@verdict)")" PASS "good content under all six stress kinds: PASS"
[ "$(xpath "$run" "string($good/@verdict)")" = PASS ] || diag_file "$scratch/run.err"
is "$(xpath "$run" "string($good/@boots)")" 1 "all six kinds in one boot"
for k in $kinds; do
	grep -q "good/s: stress $k: [0-9]* s$" "$scratch/run.err"
	ok $? "progress shows stress $k with its time"
	grep -q "good/s: health check after stress $k$" "$scratch/run.err"
	ok $? "the agent's health is checked after stress $k"
done
duration=$(xpath "$run" "string($good/@duration-s)")
echo "# good job: $duration s for 6 x 5 s of stress under $LABGATE_ACCEL"
awk -v d="$duration" 'BEGIN { exit !(d > 0 && d < 120) }'
ok $? "the six kinds take well under 2 minutes ($duration s)"

storm='/run/job[@content="proc-storm"][@scenario="storm"]'
is "$(xpath "$run" "string($storm/@verdict)")" CRASH "proc-storm under a process storm: CRASH"
contains "$(xpath "$run" "string($storm/evidence/@title)")" "in sampledrv_track_fork" \
	"the crash's title names the driver's function"
is "$(xpath "$run" "string($storm/evidence/@step)")" stress "the crash came during the stress step"
contains "$(xpath "$run" "string($storm/evidence/console)")" "RIP: 0010:sampledrv_track_fork" \
	"the evidence holds the oops"

plain='/run/job[@content="proc-storm"][@scenario="plain"]'
is "$(xpath "$run" "string($plain/@verdict)")" PASS "proc-storm without stress (boot, install, content, reboot): PASS"
is "$(xpath "$run" "string($plain/@boots)")" 2 "it did reboot"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"
done_testing
