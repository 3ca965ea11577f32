#!/usr/bin/env bash
# CI shards: `labgate run --shard 1/2` and `--shard 2/2` on real guests,
# then `labgate merge`: the merged run.xml has every job of the plan with
# the verdict it had in its shard, the exit code is the whole run's gate,
# each job's artifacts are in the merged directory, and report.html says
# where each job ran.  Merges that are not one run fail closed (exit 3): a
# missing shard, a shard given twice, a shard of another plan.  Two boots
# in all (one cheap job per shard); the rest reads files.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}

# two jobs whose names put one in each shard: "boot" passes, "boot-exec"
# fails its exec (AGENT_FAILURE: blocks), so the whole run's gate is 1
make_matrix "$scratch/m.xml" '<wait-ready/>'
sed -i 's|<scenario id="s"><wait-ready/></scenario>|<scenario id="boot"><wait-ready/></scenario><scenario id="boot-exec"><wait-ready/><exec command="exit 3"/></scenario>|' \
	"$scratch/m.xml"
plan=$("$LABGATE" plan "$scratch/m.xml" | awk 'NR > 1 { print $1 }' | sort)
is "$(printf '%s\n' "$plan" | wc -l)" 2 "the plan has two jobs"
p1=$("$LABGATE" plan "$scratch/m.xml" --shard 1/2 | awk 'NR > 2 { print $1 }')
p2=$("$LABGATE" plan "$scratch/m.xml" --shard 2/2 | awk 'NR > 2 { print $1 }')
is "$(printf '%s\n%s\n' "$p1" "$p2" | sort)" "$plan" "plan --shard 1/2 and 2/2 list every job of the plan once"
head=$("$LABGATE" plan "$scratch/m.xml" --shard 1/2 | head -n 1)
contains "$head" "shard 1 of 2: 1 of 2 jobs" "plan --shard says which shard and how many jobs"

for bad in 0/2 3/2 1/0 x; do
	err=$("$LABGATE" run "$scratch/m.xml" --shard "$bad" --out "$scratch/bad" 2>&1 >/dev/null)
	is "$?" 2 "run --shard $bad exits 2"
	contains "$err" "--shard" "and says what is wrong with --shard $bad"
done
ok "$(test ! -e "$scratch/bad"; echo $?)" "a bad --shard creates no results directory"

codes=
for i in 1 2; do
	"$LABGATE" run "$scratch/m.xml" --shard "$i/2" --out "$scratch/shard$i" >"$scratch/run$i.out" 2>"$scratch/run$i.err"
	codes="$codes $?"
	run_id=$(xpath "$scratch/shard$i/run.xml" 'string(/run/@id)')
	assert_no_leftovers "${run_id:-none}"
done
is "$codes" " 0 1" "shard 1 (its job passes) exits 0, shard 2 (its job fails) exits 1"
r1=$scratch/shard1/run.xml
is "$(xpath "$r1" 'string(/run/shard/@index)')/$(xpath "$r1" 'string(/run/shard/@count)')" "1/2" \
	"run.xml records the shard (<shard index count>)"
is "$(xpath "$r1" 'string(/run/shard/job/@id)')" "$p1" "and the job ids it had"
is "$(xpath "$r1" 'string(/run/shard/@plan-jobs)')" 2 "and how many jobs the whole plan has"
is "$(xpath "$r1" 'string(/run/shard/@plan-sha256)')" "$(xpath "$scratch/shard2/run.xml" 'string(/run/shard/@plan-sha256)')" \
	"both shards record the same digest of the whole plan"
is "$(xpath "$r1" 'string(/run/job/@host)')" "local" "each job records the matrix host it ran on"
contains "$(cat "$scratch/run1.out")" "shard 1 of 2 (1 of 2 jobs)" "the summary says which shard it was"
contains "$(cat "$scratch/shard1/report.html")" "shard 1 of 2 (1 of 2 jobs)" "and so does report.html"

# --resume keeps the shard: nothing left to run, the reports rebuilt as the shard's
"$LABGATE" run "$scratch/m.xml" --resume "$scratch/shard1" --quiet >/dev/null 2>"$scratch/resume.err"
is "$?" 0 "a finished shard resumed runs nothing and exits with its gate"
is "$(xpath "$r1" 'string(/run/shard/@index)')" 1 "and its run.xml is still shard 1's"
err=$("$LABGATE" run "$scratch/m.xml" --resume "$scratch/shard1" --shard 2/2 2>&1 >/dev/null)
is "$?" 2 "resuming shard 1 as shard 2 exits 2"
contains "$err" "is shard 1/2" "and says which shard the run is"

# the merge
out=$("$LABGATE" merge "$scratch/shard1" "$scratch/shard2" --out "$scratch/merged" 2>"$scratch/merge.err")
is "$?" 1 "merge exits with the whole run's gate (1: one job blocks), as an unsharded run would"
[ -s "$scratch/merge.err" ] && diag_file "$scratch/merge.err"
m=$scratch/merged/run.xml
is "$(xpath "$m" '/run/job/@id' | tr ' ' '\n' | sed -n 's/.*id="\(.*\)"/\1/p' | sort)" "$plan" \
	"the merged run.xml has exactly the plan's job ids"
for i in 1 2; do
	id=$(xpath "$scratch/shard$i/run.xml" 'string(/run/job/@id)')
	is "$(xpath "$m" "string(/run/job[@id='$id']/@verdict)")" \
		"$(xpath "$scratch/shard$i/run.xml" 'string(/run/job/@verdict)')" "job $id has its shard's verdict"
	ok "$(test -s "$scratch/merged/jobs/$id/console.log"; echo $?)" "its console log is in the merged directory"
done
is "$(xpath "$m" 'string(/run/job[@scenario="boot-exec"]/@verdict)')" "AGENT_FAILURE" "the failing exec is AGENT_FAILURE"
is "$(xpath "$m" 'string(/run/@exit-code)')" 1 "the merged run.xml records the gate"
is "$(xpath "$m" 'string(/run/merged/@shards)')" 2 "and that it was merged from two shards"
is "$(xpath "$m" 'count(/run/inputs/build)')" 1 "with the shards' input digests"
contains "$out" "merged from 2 shards (2 jobs)" "the summary says the run was merged"
contains "$out" "RELEASE BLOCKED" "and gives the gate"
html=$(cat "$scratch/merged/report.html")
contains "$html" "merged from 2 shards (2 jobs)" "report.html says so"
contains "$html" "<dt>Host</dt><dd>local</dd>" "report.html shows where a job ran"
contains "$html" "<dt>Tries</dt><dd>1</dd>" "and how many times"
ok "$(grep -c 'testcase' "$scratch/merged/junit.xml" | grep -qv '^0$'; echo $?)" "junit.xml is written"
is "$(xpath "$scratch/merged/junit.xml" 'string(/testsuites/@tests)')" 2 "with both jobs"

# fails closed
err=$("$LABGATE" merge "$scratch/shard1" --out "$scratch/m1" 2>&1 >/dev/null)
is "$?" 3 "a merge missing a shard exits 3"
contains "$err" "shard 2/2 is missing" "and names the missing shard"
ok "$(test ! -e "$scratch/m1/run.xml"; echo $?)" "and writes no run.xml"
err=$("$LABGATE" merge "$scratch/shard1" "$scratch/shard1" "$scratch/shard2" --out "$scratch/m2" 2>&1 >/dev/null)
is "$?" 3 "a shard given twice exits 3"
contains "$err" "shard 1/2 is given twice: $scratch/shard1 and $scratch/shard1" "and names the directories"
cp -r "$scratch/shard2" "$scratch/other"
sed -i 's/plan-sha256="[0-9a-f]*"/plan-sha256="'"$(printf '%064d' 0)"'"/' "$scratch/other/run.xml"
err=$("$LABGATE" merge "$scratch/shard1" "$scratch/other" --out "$scratch/m3" 2>&1 >/dev/null)
is "$?" 3 "a shard of another plan exits 3"
contains "$err" "$scratch/other ran another plan than $scratch/shard1" "and names it"
err=$("$LABGATE" merge "$scratch/shard1" "$scratch/nowhere" --out "$scratch/m4" 2>&1 >/dev/null)
is "$?" 2 "an unreadable shard directory exits 2"
contains "$err" "$scratch/nowhere: no such directory" "and names it"
err=$("$LABGATE" merge "$scratch/shard1" "$scratch/shard2" --out "$scratch/merged" 2>&1 >/dev/null)
is "$?" 2 "merging into results that exist exits 2"

# the merge job's checkout is elsewhere: --matrix names it, its digest must match
mkdir -p "$scratch/checkout"
cp "$scratch/m.xml" "$scratch/checkout/m.xml"
"$LABGATE" merge "$scratch/shard1" "$scratch/shard2" --matrix "$scratch/checkout/m.xml" --out "$scratch/m5" \
	--quiet 2>/dev/null
is "$?" 1 "merge --matrix with the same matrix at another path merges"
echo '<!-- edited -->' >>"$scratch/checkout/m.xml"
err=$("$LABGATE" merge "$scratch/shard1" "$scratch/shard2" --matrix "$scratch/checkout/m.xml" --out "$scratch/m6" 2>&1 >/dev/null)
is "$?" 3 "merge --matrix with a changed matrix exits 3"
contains "$err" "is not the matrix the shards ran" "and says so"

done_testing
