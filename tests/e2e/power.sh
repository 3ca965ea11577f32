#!/usr/bin/env bash
# Health gates every PASS, content updates in a row, power: a hard reset, a
# cold boot from the firmware, and power lost in the middle of a content
# update, at a moment chosen from the job's seed that repro cuts at again.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}
content_dir=$LG_SOURCE_DIR/guests/sample-agent/content
contents() { for c in "$@"; do printf '<content id="%s" dir="%s/%s"/>' "$c" "$content_dir" "$c"; done; }
scenario() { printf '<scenario id="%s">%s</scenario>' "$1" "$2"; }

# --- four jobs, two at a time: the health gate (no exec step), power-cycle
# and cold-boot and ten hot updates of the good content, the generation
# fault found by hot updates and missed by an apply and reboots
make_matrix "$scratch/power.xml" '<wait-ready/>' "$(contents good generations agent-dies)"
scenarios="$(scenario power '<install/><apply-content/><power-cycle/><cold-boot/><content-reload count="6"/>')"
scenarios+="$(scenario reload '<install/><content-reload count="6"/>')"
scenarios+="$(scenario single '<install/><apply-content/><reboot count="2"/>')"
scenarios+="$(scenario gate '<install/><apply-content/><reboot count="1"/>')"
sed -i "s|<scenarios><scenario id=\"s\"><wait-ready/></scenario>|<scenarios>$scenarios|" "$scratch/power.xml"
sed -i 's|health="sh ./health.sh"|health="sh ./health.sh" processes="sampleagentd"|' "$scratch/power.xml"
sed -i 's|</scenarios>|</scenarios><exclude content="good" scenario="reload"/><exclude content="good" scenario="single"/><exclude content="good" scenario="gate"/><exclude content="generations" scenario="power"/><exclude content="generations" scenario="gate"/><exclude content="agent-dies" scenario="power"/><exclude content="agent-dies" scenario="reload"/><exclude content="agent-dies" scenario="single"/>|' "$scratch/power.xml"
"$LABGATE" validate "$scratch/power.xml" >/dev/null
ok $? "the power matrix is valid"
"$LABGATE" run "$scratch/power.xml" --out "$scratch/power" >"$scratch/power.out" 2>&1
is "$?" 1 "a dead agent and the generation fault block the release (exit 1)"
run=$scratch/power/run.xml
is "$(xpath "$run" 'count(/run/job)')" 4 "four jobs"
job() { printf '/run/job[@content="%s"][@scenario="%s"]' "$1" "$2"; }
j=$(job good power)
is "$(xpath "$run" "string($j/@verdict)")" PASS "good content: power-cycle, cold-boot and 6 hot updates: PASS"
is "$(xpath "$run" "string($j/@boots)")" 3 "the boot counter moved at the hard reset and at the cold boot (3 boots)"
log=$scratch/power/$(xpath "$run" "string($j/artifact[@kind='console']/@path)")
grep -aq 'labgate: boot 3' "$log"
ok $? "the console was attached again after the cold boot: the third boot's boot line is in the job's console log"
j=$(job generations reload)
is "$(xpath "$run" "string($j/@verdict)")" CRASH "generation fault: CRASH in the hot updates"
is "$(xpath "$run" "string($j/evidence/@title)")" "BUG: kernel NULL pointer dereference in sampledrv_record_generation" \
	"the title names the driver's function"
is "$(xpath "$run" "string($j/evidence/@step)")" content-reload "in the content-reload step"
j=$(job generations single)
is "$(xpath "$run" "string($j/@verdict)")" PASS "the same content applied once and rebooted twice: PASS (only hot updates find it)"
j=$(job agent-dies gate)
is "$(xpath "$run" "string($j/@verdict)")" AGENT_FAILURE "a daemon that dies at every boot, no exec step: AGENT_FAILURE"
contains "$(xpath "$run" "string($j/evidence/@title)")" "agent health check failed (exit 1)" "the health gate decided"
contains "$(xpath "$run" "string($j/evidence/@title)")" "sampleagentd exited: option heartbeat-interval" \
	"with the health command's output in the title"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"

# --- power lost mid-update: the torn content's half-streamed file crashes
# the next boot; the good content (written to a temporary name, synced,
# renamed) survives.  Seed 3 puts the torn job's cut 4.7 s into its hook,
# while the large file streams (about 6 s under TCG, chunks 0.3 s apart).
make_matrix "$scratch/cut.xml" '<install/><apply-content cut-power-within-ms="6000"/>' "$(contents torn good)"
sed -i 's|strict="true"|strict="true" seed="3"|' "$scratch/cut.xml"
plan=$("$LABGATE" plan "$scratch/cut.xml")
contains "$plan" "power cut: step 2 at 4740 ms" "plan prints when the torn job's power cut comes"
"$LABGATE" run "$scratch/cut.xml" --out "$scratch/cut" >"$scratch/cut.out" 2>&1
is "$?" 1 "a torn file after the power cut blocks the release (exit 1)"
run=$scratch/cut/run.xml
is "$(xpath "$run" 'string(/run/job[@content="torn"]/@verdict)')" CRASH "torn content: CRASH at the next boot"
is "$(xpath "$run" 'string(/run/job[@content="torn"]/evidence/@title)')" \
	"BUG: unable to handle page fault in sampledrv_index_hashes" "the title names the driver's function"
is "$(xpath "$run" 'string(/run/job[@content="torn"]/@power-cut-ms)')" 4740 "run.xml says when the power went"
is "$(xpath "$run" 'string(/run/job[@content="good"]/@verdict)')" PASS "good content survives the power cut: PASS"
good_cut=$(xpath "$run" 'string(/run/job[@content="good"]/@power-cut-ms)')
contains "$plan" "power cut: step 2 at $good_cut ms" "the good job's moment in run.xml is the one plan printed"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"

torn=$(xpath "$run" 'string(/run/job[@content="torn"]/@id)')
out=$("$LABGATE" repro "$scratch/cut" "$torn" --out "$scratch/repro" 2>"$scratch/repro.err")
is "$?" 0 "repro of the torn job reproduces the crash"
contains "$out" "originally CRASH: BUG: unable to handle page fault in sampledrv_index_hashes" \
	"repro says what it reproduces"
is "$(xpath "$scratch/repro/run.xml" 'string(/run/job/@power-cut-ms)')" 4740 "repro cut the power at the same moment"
assert_no_leftovers "$(xpath "$scratch/repro/run.xml" 'string(/run/@id)')"
[ "$tap_failed" -eq 0 ] || { diag_file "$scratch/power.out" 30; diag_file "$scratch/cut.out" 20; }
done_testing
