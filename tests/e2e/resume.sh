#!/usr/bin/env bash
# The journal: a run killed with SIGKILL after its first job ended keeps
# that job's result (jobs/ID/result.xml); `labgate gc` cleans up the killed
# job's domain; `labgate run --resume DIR` runs only the jobs with no result,
# under the same run id, and the reports cover the whole run with the
# verdicts an uninterrupted run gives.  A changed matrix is refused.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}
content=$LG_SOURCE_DIR/guests/sample-agent/content
TITLE="BUG: kernel NULL pointer dereference in sampledrv_parse_record"

# three jobs, one at a time: good (PASS), faulty (CRASH), good again (PASS)
make_matrix "$scratch/m.xml" '<wait-ready/><install/><apply-content/>' \
	"<content id=\"good\" dir=\"$content/good\"/><content id=\"faulty\" dir=\"$content/faulty\"/><content id=\"good2\" dir=\"$content/good\"/>"
out=$scratch/out
"$LABGATE" run "$scratch/m.xml" --out "$out" --jobs 1 >"$scratch/run.out" 2>"$scratch/run.err" &
harness=$!
first=
for _ in $(seq 1 600); do
	first=$(find "$out/jobs" -name result.xml 2>/dev/null | head -n 1)
	[ -n "$first" ] && break
	kill -0 "$harness" 2>/dev/null || break
	sleep 0.5
done
ok "$(test -n "$first"; echo $?)" "the first job's result is journaled the moment it ends ($first)"
# Kill while the second job's domain exists, so gc has something to remove
# (killing between the first result and the next launch left nothing).
run_id=$(xpath "$out/run-meta.xml" 'string(/run-meta/@id)')
for _ in $(seq 1 600); do
	[ -n "$(domains_matching "labgate-$run_id-")" ] && break
	kill -0 "$harness" 2>/dev/null || break
	sleep 0.1
done
kill -KILL "$harness"
wait "$harness" 2>/dev/null
[ -n "$first" ] || diag_file "$scratch/run.err"
ok "$(test -n "$run_id"; echo $?)" "run-meta.xml names the run ($run_id)"
ok "$(test ! -e "$out/run.xml"; echo $?)" "SIGKILL left no run.xml"
# (an atomic write's temporary file is GLib's: NAME.XXXXXX beside NAME)
is "$(find "$out" -regextype posix-extended -regex '.*\.(xml|html|png|log)\.[A-Za-z0-9]{6}' | head -n 3)" "" \
	"and no half-written file"
first_id=$(xpath "$first" 'string(/job/@id)')
is "$(xpath "$first" 'string(/job/@content)')" "good" "the journaled job is the first of the plan"
is "$(xpath "$first" 'string(/job/@verdict)')" "PASS" "with its verdict"
first_sum=$(sha256sum <"$first")

out_gc=$(timeout 120 "$LABGATE" gc --uri "$URI" 2>&1); ok $? "gc cleans up after the killed run"
contains "$out_gc" "removed domain labgate-$run_id-" "gc removed the killed job's domain"
ok "$(test -s "$out/jobs/$first_id/console.log"; echo $?)" "gc keeps the console log of the journaled job"

# a matrix that changed since the run started is refused, saying why
cp "$scratch/m.xml" "$scratch/changed.xml"
echo '<!-- edited -->' >>"$scratch/changed.xml"
err=$("$LABGATE" run "$scratch/changed.xml" --resume "$out" 2>&1 >/dev/null)
is "$?" 2 "--resume with a changed matrix exits 2"
contains "$err" "the matrix changed since the run started" "and says the matrix changed"
sed 's|</contents>|<content id="more" dir="'"$content"'/good"/></contents>|' "$scratch/m.xml" >"$scratch/more.xml"
err=$("$LABGATE" run "$scratch/more.xml" --resume "$out" 2>&1 >/dev/null)
is "$?" 2 "--resume with another plan exits 2"
contains "$err" "1 job(s) of the plan are not in the run" "and names the job the run does not have"
is "$(find "$out/jobs" -name result.xml | wc -l)" 1 "a refused resume runs nothing"

"$LABGATE" run "$scratch/m.xml" --resume "$out" --jobs 1 >"$scratch/resume.out" 2>"$scratch/resume.err"
rc=$?
is "$rc" 1 "the resumed run exits 1: the faulty content blocks the release"
[ "$rc" = 1 ] || diag_file "$scratch/resume.err"
contains "$(cat "$scratch/resume.err")" "resuming run $run_id: 2 of 3 job(s) to run" "it runs only the two jobs with no result"
run=$out/run.xml
is "$(xpath "$run" 'string(/run/@id)')" "$run_id" "under the same run id"
is "$(xpath "$run" 'count(/run/job)')" 3 "run.xml has every job of the plan"
verdicts=$(for c in good faulty good2; do printf '%s ' "$(xpath "$run" "string(/run/job[@content='$c']/@verdict)")"; done)
is "$verdicts" "PASS CRASH PASS " "the verdicts of an uninterrupted run"
is "$(xpath "$run" "string(/run/job[@content='faulty']/evidence/@title)")" "$TITLE" "with the crash's evidence"
is "$(xpath "$run" 'string(/run/@outcome)')" "blocked" "outcome blocked"
is "$(xpath "$out/junit.xml" 'string(/testsuites/@tests)')" 3 "junit.xml covers the whole run"
contains "$(cat "$out/report.html")" "$TITLE" "report.html too"
is "$(sha256sum <"$first")" "$first_sum" "the first job was not run again"
contains "$(cat "$scratch/resume.out")" "RELEASE BLOCKED" "the summary says the release is blocked"
assert_no_leftovers "$run_id"

# nothing left to run: the reports again, no guest
"$LABGATE" run "$scratch/m.xml" --resume "$out" >/dev/null 2>"$scratch/again.err"
is "$?" 1 "resuming a finished run exits with its gate again"
contains "$(cat "$scratch/again.err")" "0 of 3 job(s) to run" "and runs no job"
done_testing
