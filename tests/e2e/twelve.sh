#!/usr/bin/env bash
# Issue 14's scenario: twelve copies of the demo's good job at once on this
# 2-core machine (slots="12" overcommit="allow", strict, TCG, baseline="first").
# Whatever the overload does to the guests, no verdict is blamed on the
# candidate: every job is PASS, or INFRA_ERROR whose title says the guest
# failed by itself ("baseline ..."); exit 0 or 3; nothing left behind.
# The scenario is the cheapest that puts the candidate on the guest: boot,
# install, apply the good content.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}

make_matrix "$scratch/m.xml" '<wait-ready/><install/><apply-content/>'
guests=
for i in $(seq -w 1 12); do
	guests="$guests<guest id=\"copy-$i\" profile=\"$LG_SOURCE_DIR/guests/profiles/linux-x86_64.xml\"/>"
done
sed -i -e "s|<guests>.*</guests>|<guests>$guests</guests>|" \
	-e 's|slots="2"|slots="12"|' \
	-e 's|strict="true"|strict="true" overcommit="allow" baseline="first"|' "$scratch/m.xml"

"$LABGATE" validate "$scratch/m.xml" >"$scratch/validate.out" 2>&1
is "$?" 0 "slots=\"12\" on this machine is accepted with overcommit=\"allow\""
contains "$(cat "$scratch/validate.out")" "warning" "with a warning"
"$LABGATE" plan "$scratch/m.xml" >"$scratch/plan.out" 2>&1
contains "$(cat "$scratch/plan.out")" "baseline linux-x86_64" "plan shows the profile's baseline boot"

start=$(date +%s)
"$LABGATE" run "$scratch/m.xml" --out "$scratch/out" >"$scratch/run.out" 2>&1
rc=$?
wall=$(($(date +%s) - start))
echo "# twelve jobs at once: exit $rc after $wall s"
ok "$([ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]; echo $?)" "exit 0 or 3, never 1 (release blocked)"
run=$scratch/out/run.xml
is "$(xpath "$run" 'count(/run/job)')" 12 "twelve jobs in run.xml"
is "$(xpath "$run" 'count(/run/job[@blocks="true"])')" 0 "no verdict blamed on the candidate"
is "$(xpath "$run" 'count(/run/job[@verdict!="PASS" and @verdict!="INFRA_ERROR"])')" 0 \
	"every job is PASS or INFRA_ERROR"
is "$(xpath "$run" 'count(/run/job[@verdict="INFRA_ERROR" and not(starts-with(evidence/@title, "baseline"))])')" 0 \
	"every INFRA_ERROR says the guest failed by itself (baseline ...)"
echo "# verdicts: $(xpath "$run" '/run/job/@verdict' | tr -s ' \n' ' ')"
xpath "$run" '/run/job/evidence/@title' | sed 's/^/# /'
is "$(xpath "$run" 'count(/run/baseline[@profile="linux-x86_64"])')" 1 "run.xml records the profile's baseline boot"
echo "# baseline: $(xpath "$run" 'string(/run/baseline/@verdict)') in $(xpath "$run" 'string(/run/baseline/@seconds)') s"
contains "$(cat "$scratch/run.out")" "baseline of profile linux-x86_64 on host local" "the summary shows the baseline"
contains "$(cat "$scratch/run.out")" "host local: load" "the summary says how loaded the host was"
ok "$(xpath "$run" 'string(/run/host-load[@host="local"]/@max-steal)' | grep -Eq '^[0-9]+(\.[0-9]+)?$'; echo $?)" \
	"run.xml has the host's steal time (it may itself be a VM)"
ok "$(xpath "$run" 'string(/run/host-load[@host="local"]/@max-busy)' | grep -Eq '^[0-9]+(\.[0-9]+)?$'; echo $?)" \
	"and how busy its CPUs were"
contains "$(cat "$scratch/run.out")" "steal" "the summary shows the steal time"
echo "# $(grep '^host local:' "$scratch/run.out")"
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || diag_file "$scratch/run.out" 80
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"
done_testing
