#!/usr/bin/env bash
# Cycles and the failure-rate bound on a real guest: a <repeat count="2"> of
# two steps and <reboot count="auto"/> under max-failure-rate 0.5 at
# confidence 0.9 (4 reboots: kept short for TCG).  plan prints the cycles,
# the progress says "cycle i/n", the good content passes and the summary,
# run.xml and report.html say "0 failures in 4 boots: failure rate < 0.5 at
# confidence 0.9".  A run interrupted in the middle of its auto cycles is
# not a pass and claims nothing.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}
CLAIM="0 failures in 4 boots: failure rate < 0.5 at confidence 0.9"

make_matrix "$scratch/m.xml" '<wait-ready/><install/><apply-content/>
    <repeat count="2"><exec command="sh /opt/labgate/build/health.sh"/><exec command="true"/></repeat>
    <reboot count="auto"/>'
sed -i 's|<policy |<policy max-failure-rate="0.5" confidence="0.9" |' "$scratch/m.xml"

plan=$("$LABGATE" plan "$scratch/m.xml" 2>&1); ok $? "plan exits 0"
contains "$plan" "6 (4 auto)" "plan prints the job's cycles: 2 counted and 4 for the bound"
is "$(echo "$plan" | awk 'NR == 2 { print $NF }')" 5 "and its boots: the first and 4 reboots"
contains "$plan" 'count="auto" runs 4 cycles' "and the bound's cycles"

# count="auto" without the bound is refused, naming file and line
sed 's|max-failure-rate="0.5" confidence="0.9" ||' "$scratch/m.xml" >"$scratch/nobound.xml"
err=$("$LABGATE" validate "$scratch/nobound.xml" 2>&1)
is "$?" 2 "count=\"auto\" without a bound is bad input"
line=$(grep -n 'count="auto"' "$scratch/nobound.xml" | cut -d: -f1)
contains "$err" "$scratch/nobound.xml:$line: count=\"auto\" needs the failure-rate bound" "the error names file and line"

start=$(date +%s)
out=$scratch/run
"$LABGATE" run "$scratch/m.xml" --out "$out" >"$scratch/stdout" 2>"$scratch/stderr"
rc=$?
is "$rc" 0 "the good content passes every cycle: exit 0"
echo "# the run took $(($(date +%s) - start)) s"
[ "$rc" -eq 0 ] || diag_file "$scratch/stderr"
summary=$(cat "$scratch/stdout")
contains "$summary" "PASS           $CLAIM" "the summary says what the cycles show"
progress=$(cat "$scratch/stderr")
contains "$progress" "cycle 2/2: step 6/11 exec" "the progress says the cycle of the repeat"
contains "$progress" "cycle 3/4: step 10/11 reboot" "and of the auto cycles"
contains "$progress" "cycle 4/4: reboot 1/1 (boot 4)" "also while a reboot waits for the guest"
run=$out/run.xml
job='/run/job[1]'
is "$(xpath "$run" "string($job/@verdict)")" PASS "run.xml: PASS"
is "$(xpath "$run" "string($job/@boots)")" 5 "run.xml: 5 boots"
is "$(xpath "$run" "string($job/@ready-boots)")" 5 "run.xml: 5 boots reached ready"
is "$(xpath "$run" "string($job/@cycles)")/$(xpath "$run" "string($job/@cycles-planned)")" 6/6 "run.xml: every cycle done"
is "$(xpath "$run" "string($job/@bound-boots)")" 4 "run.xml: 4 boots in the auto cycles"
is "$(xpath "$run" "string($job/bound)")" "$CLAIM" "run.xml states the bound"
is "$(xpath "$run" "string($job/bound/@holds)")" true "and that it holds"
contains "$(cat "$out/report.html")" "0 failures in 4 boots: failure rate &lt; 0.5 at confidence 0.9" \
	"report.html states the bound"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"

# Ctrl-C in the second auto cycle: not a pass, no claim
out2=$scratch/int
"$LABGATE" run "$scratch/m.xml" --out "$out2" >"$scratch/int.out" 2>"$scratch/int.err" &
harness=$!
for _ in $(seq 1 1200); do
	grep -q "cycle 2/4" "$scratch/int.err" 2>/dev/null && break
	kill -0 "$harness" 2>/dev/null || break
	sleep 0.1
done
kill -INT "$harness"
wait "$harness"
rc=$?
is "$rc" 3 "interrupted in cycle 2 of 4: run incomplete (exit 3), not a pass"
run2=$out2/run.xml
is "$(xpath "$run2" "string($job/@verdict)")" INFRA_ERROR "run.xml: INFRA_ERROR"
is "$(xpath "$run2" "string($job/@bound-cycles)")" 1 "run.xml: one auto cycle finished"
is "$(xpath "$run2" "string($job/bound/@holds)")" false "and the bound does not hold"
is "$(xpath "$run2" "string($job/bound)")" "" "nor is it claimed"
case "$(cat "$scratch/int.out")" in *"0 failures in"*) r=1 ;; *) r=0 ;; esac
ok $r "the summary claims nothing"
assert_no_leftovers "$(xpath "$run2" 'string(/run/@id)')"
done_testing
