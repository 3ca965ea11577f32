#!/usr/bin/env bash
# The demo matrix, for real: good content passes, faulty content crashes the
# guest kernel in the sample driver, the gate blocks the release.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

out=$scratch/out
out_dir_demo=$out
"$LABGATE" run "$LG_SOURCE_DIR/matrix/demo.xml" --out "$out" >"$scratch/stdout" 2>"$scratch/stderr"
rc=$?
is "$rc" 1 "labgate run matrix/demo.xml exits 1 (release blocked)"
run=$out/run.xml
ok "$(test -s "$run"; echo $?)" "run.xml written"
is "$(xpath "$run" 'count(/run/job)')" 2 "run.xml has one <job> per job"
is "$(xpath "$run" 'string(/run/job[@content="good"]/@verdict)')" PASS "good content: PASS"
is "$(xpath "$run" 'count(/run/job[@content="good"]/evidence)')" 0 "a PASS job carries no evidence"
is "$(xpath "$run" 'string(/run/job[@content="good"]/@boots)')" 4 "good content survived 3 reboots (4 boots)"
is "$(xpath "$run" 'string(/run/job[@content="faulty"]/@verdict)')" CRASH "faulty content: CRASH"
is "$(xpath "$run" 'string(/run/job[@content="faulty"]/evidence/@title)')" \
	"BUG: kernel NULL pointer dereference in sampledrv_parse_record" "crash title names the driver function"
signal=$(xpath "$run" 'string(/run/job[@content="faulty"]/evidence/@signal)')
case "$signal" in console | pvpanic) ok 0 "crash decided by a crash signal ($signal)" ;; *) ok 1 "crash signal is '$signal'" ;; esac
is "$(xpath "$run" 'string(/run/job[@content="faulty"]/evidence/@step)')" apply-content "crash happened while applying content"
contains "$(xpath "$run" 'string(/run/job[@content="faulty"]/evidence/console)')" "RIP: 0010:sampledrv_parse_record" \
	"evidence holds the console report"
is "$(xpath "$run" 'string(/run/@outcome)')" blocked "run outcome is 'blocked'"
junit=$out/junit.xml
is "$(xpath "$junit" 'count(//testcase)')" 2 "junit.xml has a testcase per job"
is "$(xpath "$junit" 'count(//testcase/failure)')" 1 "junit.xml has one failure"
is "$(xpath "$junit" 'string(//testcase/failure/@message)')" "BUG: kernel NULL pointer dereference in sampledrv_parse_record" \
	"junit failure message is the crash title"
is "$(xpath "$junit" 'string(//testcase[failure]/@classname)')" linux-x86_64 "junit classname is the guest"
is "$(xpath "$junit" 'string(//testcase[failure]/@name)')" sample-agent-1.0/faulty/install-content-reboot3 \
	"junit name is build/content/scenario"
contains "$(xpath "$junit" 'string(//testcase[failure]/system-out)')" "RIP: 0010:sampledrv_parse_record" \
	"the console report is the testcase's system-out"
xmllint --noout --schema "$LG_SOURCE_DIR/tests/fixtures/junit/junit.xsd" "$junit" 2>/dev/null
ok $? "junit.xml is valid against the JUnit XML schema CI servers read"
for id in $(xpath "$run" '/run/job/@id' | sed 's/ id="\([^"]*\)"/\1 /g'); do
	ok "$(test -s "$out/jobs/$id/console.log"; echo $?)" "console.log kept for job $id"
done
faulty_id=$(xpath "$run" 'string(/run/job[@content="faulty"]/@id)')
contains "$(cat "$out/jobs/$faulty_id/console.log")" "Kernel panic - not syncing" "strict mode turned the oops into a panic"
fe='/run/job[@content="faulty"]/evidence'
is "$(xpath "$run" "count($fe/signal[@name='console' and @verdict='CRASH'])")" 1 "the timeline notes the console report"
is "$(xpath "$run" "count($fe/signal[@name='pvpanic' and @verdict='CRASH'])")" 1 "the timeline notes the pvpanic event"
is "$(xpath "$run" "boolean($fe/@panic-time-s and $fe/@report-time-s and $fe/@last-answer-s)")" true \
	"evidence records when the guest panicked, printed the report, and last answered"
is "$(xpath "$run" "$fe/@report-time-s <= $fe/@panic-time-s and $fe/@last-answer-s <= $fe/@report-time-s")" true \
	"the guest answered, then printed the oops, then panicked (in that order)"
html=$(cat "$out/report.html")
contains "$html" "RELEASE BLOCKED" "report.html carries the decision"
contains "$html" "sampledrv_parse_record" "and the crash title"
contains "$html" "data:image/png;base64," "with the crashed guest's screen embedded"
contains "$(cat "$scratch/stdout")" "RELEASE BLOCKED" "summary says RELEASE BLOCKED"
shot=$(xpath "$run" 'string(/run/job[@content="faulty"]/artifact[@kind="screenshot"]/@path)')
contains "$(file "$out/$shot")" "PNG image data" "a screenshot of the crashed guest is kept as PNG"
is "$(xpath "$run" 'count(/run/job[@content="good"]/artifact[@kind="screenshot"])')" 0 "a PASS job keeps no screenshot"
dump=$(xpath "$run" 'string(/run/job[@content="faulty"]/artifact[@kind="memory-dump"]/@path)')
contains "$(file "$out/$dump")" "kdump compressed dump" "the policy asked for a memory dump of the crash, and it is kdump-compressed"
# QA sign-off on this real run: the release is named by its files' digests
build=$LG_SOURCE_DIR/guests/sample-agent/out/x86_64/sample-agent-1.0
contents=$LG_SOURCE_DIR/guests/sample-agent/content
is "$(xpath "$run" "string(/run/inputs/build/@sha256)")" \
	"$(cd "$build" && find -L . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 -r sha256sum -- | sha256sum | cut -d' ' -f1)" \
	"run.xml records the build's tree digest"
vout=$("$LABGATE" verify-release "$out_dir_demo" --build "$build" --content "$contents/good" 2>&1)
is "$?" 0 "verify-release: the build with the good content was tested and passed"
contains "$vout" "VERIFIED" "and says so"
vout=$("$LABGATE" verify-release "$out_dir_demo" --build "$build" --content "$contents/faulty" 2>&1)
is "$?" 1 "verify-release refuses the build with the faulty content"
contains "$vout" "BUG: kernel NULL pointer dereference in sampledrv_parse_record" "naming the crash"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"
done_testing
