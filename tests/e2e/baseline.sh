#!/usr/bin/env bash
# A guest that fails before the candidate is on it is not the candidate's
# failure: a guest image whose kernel cannot boot (its command line names a
# root device that does not exist, so the kernel panics at boot) gives
# INFRA_ERROR "baseline: ...", exit 3 (run incomplete, never "blocked"),
# and the job runs once more (policy baseline-retries, default 1) with the
# first attempt's evidence kept in jobs/ID/attempt-1/.  With
# baseline="first" the profile boots once before its jobs, and its panic
# marks them INFRA_ERROR "baseline failed" without running them.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}

# the test guest's profile with absolute paths and a kernel command line
# that panics: no initramfs init, and a root device that does not exist
sed -e "s|\"\\.\\./|\"$LG_SOURCE_DIR/guests/|g" \
	-e 's|cmdline="[^"]*"|cmdline="console=ttyS0 root=/dev/vdz rdinit=/nonexistent panic=0"|' \
	"$LG_SOURCE_DIR/guests/profiles/linux-x86_64.xml" >"$scratch/broken.xml"
make_matrix "$scratch/m.xml" '<wait-ready/><install/><apply-content/>'
use_profile "$scratch/m.xml" "$scratch/broken.xml"

"$LABGATE" run "$scratch/m.xml" --out "$scratch/out" >"$scratch/run.out" 2>&1
is "$?" 3 "a guest that panics before the install exits 3 (run incomplete), not 1"
run=$scratch/out/run.xml
is "$(xpath "$run" 'string(/run/job/@verdict)')" INFRA_ERROR "verdict INFRA_ERROR"
is "$(xpath "$run" 'string(/run/job/@blocks)')" false "which does not block the release by itself"
is "$(xpath "$run" 'string(/run/job/evidence/@baseline)')" CRASH "run.xml says what the guest did (CRASH)"
title=$(xpath "$run" 'string(/run/job/evidence/@title)')
contains "$title" "baseline: the guest image failed before the candidate was installed: CRASH" "the title says it was the baseline"
contains "$title" "Unable to mount root fs" "with the guest's own crash"
is "$(xpath "$run" 'string(/run/job/evidence/@step)')" wait-ready "decided in wait-ready, before the install"
is "$(xpath "$run" 'count(/run/job/attempt)')" 1 "it ran twice: one earlier attempt in run.xml"
attempt_dir=$(xpath "$run" 'string(/run/job/attempt/@path)')
contains "$(xpath "$run" 'string(/run/job/attempt/@title)')" "baseline:" "the earlier attempt was a baseline failure too"
ok "$(test -s "$scratch/out/$attempt_dir/console.log"; echo $?)" "the first attempt's console log is kept in $attempt_dir"
ok "$(test -s "$scratch/out/$(xpath "$run" 'string(/run/job/artifact[@kind="console"]/@path)')"; echo $?)" \
	"the last attempt's console log is the job's"
contains "$(cat "$scratch/run.out")" "running it again (attempt 2 of 2)" "the progress says it runs the job again"
contains "$(cat "$scratch/run.out")" "RUN INCOMPLETE" "the summary says the run is incomplete"
contains "$(cat "$scratch/out/report.html")" "before the candidate was put on it" "report.html says it was the baseline"
# how loaded the host was as jobs started: in run.xml and the summary
ok "$(xpath "$run" 'string(/run/host-load[@host="local"]/@max-per-cpu)' | grep -Eq '^[0-9]+(\.[0-9]+)?$'; echo $?)" \
	"run.xml has the host's load per CPU"
contains "$(cat "$scratch/run.out")" "host local: load" "the summary says how loaded the host was"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"

# baseline-retries="0": given up at once
sed -i 's|strict="true"|strict="true" baseline-retries="0"|' "$scratch/m.xml"
"$LABGATE" run "$scratch/m.xml" --out "$scratch/out0" >"$scratch/run0.out" 2>&1
is "$?" 3 "with baseline-retries=0 it exits 3 too"
is "$(xpath "$scratch/out0/run.xml" 'count(/run/job/attempt)')" 0 "and runs the job once"
assert_no_leftovers "$(xpath "$scratch/out0/run.xml" 'string(/run/@id)')"

# baseline="first": the profile boots once with nothing installed before
# its jobs; it panics, so both jobs are INFRA_ERROR "baseline failed" and
# never run (no boot of their own), with the baseline's evidence
sed -i -e 's|strict="true" baseline-retries="0"|strict="true" baseline="first"|' \
	-e 's|<contents>|<contents><content id="good-too" dir="'"$LG_SOURCE_DIR"'/guests/sample-agent/content/good"/>|' \
	"$scratch/m.xml"
"$LABGATE" plan "$scratch/m.xml" >"$scratch/planf.out" 2>&1
contains "$(cat "$scratch/planf.out")" "baseline linux-x86_64" "plan shows the baseline boot"
"$LABGATE" run "$scratch/m.xml" --out "$scratch/outf" >"$scratch/runf.out" 2>&1
is "$?" 3 "a baseline that panics exits 3"
run=$scratch/outf/run.xml
is "$(xpath "$run" 'count(/run/job)')" 2 "two jobs in run.xml"
is "$(xpath "$run" 'count(/run/job[@verdict="INFRA_ERROR"])')" 2 "both INFRA_ERROR"
is "$(xpath "$run" 'count(/run/job[starts-with(evidence/@title, "baseline failed: CRASH")])')" 2 \
	"both titled \"baseline failed: CRASH ...\""
is "$(xpath "$run" 'count(/run/job[@boots="0"])')" 2 "neither job booted a guest of its own"
is "$(xpath "$run" 'count(/run/job/attempt)')" 0 "and neither was retried"
is "$(xpath "$run" 'string(/run/baseline/@verdict)')" CRASH "run.xml's <baseline> says the baseline crashed"
console=$(xpath "$run" 'string(/run/job[1]/artifact[@kind="console"]/@path)')
is "$console" "baseline/linux-x86_64/console.log" "each job links the baseline's console log"
contains "$(cat "$scratch/outf/$console" 2>/dev/null)" "Unable to mount root fs" "which holds the guest's own crash"
is "$(find "$scratch/outf/jobs" -name console.log 2>/dev/null | wc -l)" 0 "no job has a console log of its own"
contains "$(cat "$scratch/runf.out")" "baseline of profile linux-x86_64 on host local: CRASH" "the summary shows the baseline"
contains "$(cat "$scratch/outf/report.html")" "Baseline" "report.html shows the baseline"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"
done_testing
