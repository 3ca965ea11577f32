#!/usr/bin/env bash
# The command line as a user meets it, without booting anything.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

out=$("$LABGATE" --help); ok $? "labgate --help exits 0"
contains "$out" "run MATRIX" "--help lists the run command"
"$LABGATE" frobnicate >/dev/null 2>&1; is $? 2 "an unknown command exits 2"
out=$("$LABGATE" run --help); contains "$out" "--out DIR" "run --help describes --out"

"$LABGATE" validate "$LG_SOURCE_DIR/matrix/demo.xml" >/dev/null; is $? 0 "matrix/demo.xml is valid"

# slots beyond what the host runs: refused, or a warning with overcommit="allow"
over=$scratch/over.xml
make_matrix "$over" '<wait-ready/><install/>'
sed -i 's|slots="2"|slots="64"|' "$over"
err=$("$LABGATE" validate "$over" 2>&1 >/dev/null); is $? 2 "slots beyond the host's CPUs are refused (exit 2)"
contains "$err" "$over:$(grep -n 'slots="64"' "$over" | cut -d: -f1): host local: slots=\"64\" but it can run" \
	"naming the host's line and what it can run"
sed -i 's|strict="true"|strict="true" overcommit="allow"|' "$over"
err=$("$LABGATE" validate "$over" 2>&1 >/dev/null); is $? 0 "accepted with overcommit=\"allow\""
contains "$err" "warning: host local: slots=\"64\"" "with a warning"

# baseline="first": plan shows the baseline boot (the first boot and the
# scenario's reboots); a value labgate does not know is refused with its line
first=$scratch/first.xml
make_matrix "$first" '<wait-ready/><install/><apply-content/><reboot count="2"/><power-cycle/>'
sed -i 's|strict="true"|strict="true" baseline="first"|' "$first"
out=$("$LABGATE" plan "$first"); ok $? "plan with baseline=\"first\" exits 0"
contains "$out" "baseline linux-x86_64" "plan shows the profile's baseline boot"
contains "$out" "4 boots: ready, reboot x2, power-cycle x1" "with its boots: the first, the reboots and the power-cycle"
out=$("$LABGATE" plan "$over"); contains "$out" "JOB" "plan without baseline=\"first\" works as before"
ok "$(echo "$out" | grep -q "baseline"; test $? -ne 0; echo $?)" "and shows no baseline boot"
sed -i 's|baseline="first"|baseline="always"|' "$first"
err=$("$LABGATE" validate "$first" 2>&1 >/dev/null); is $? 2 "baseline=\"always\" is refused (exit 2)"
contains "$err" "$first:$(grep -n 'baseline="always"' "$first" | cut -d: -f1):" "naming its line"

bad=$scratch/bad.xml
make_matrix "$bad" '<wait-ready/><install/>'
sed -i 's|</scenarios>|</scenarios>\n  <exclude content="nope"/>|; s|<install/>|<install timeout-s="soon"/>|' "$bad"
err=$("$LABGATE" validate "$bad" 2>&1 >/dev/null); is $? 2 "an invalid matrix exits 2"
contains "$err" "$bad:" "errors name the file"
line=$(grep -n 'timeout-s="soon"' "$bad" | cut -d: -f1)
contains "$err" "$bad:$line:" "a schema error names its line"

sed -i 's|<install timeout-s="soon"/>|<install/>|' "$bad"
err=$("$LABGATE" validate "$bad" 2>&1 >/dev/null); is $? 2 "an unknown id in <exclude> exits 2"
line=$(grep -n 'exclude content="nope"' "$bad" | cut -d: -f1)
contains "$err" "$bad:$line: <exclude> names unknown content 'nope'" "the unknown id is reported with its line"

"$LABGATE" run "$bad" --out "$scratch/never" >/dev/null 2>&1; is $? 2 "run refuses an invalid matrix with exit 2"
ok "$(test ! -e "$scratch/never/run.xml"; echo $?)" "and starts nothing"

# how long a lost host's connection is tried again: seconds, or refused
make_matrix "$scratch/reconnect.xml" '<wait-ready/>'
err=$(LABGATE_RECONNECT_S=0 "$LABGATE" run "$scratch/reconnect.xml" --out "$scratch/never-reconnect" 2>&1 >/dev/null)
is $? 2 "run refuses LABGATE_RECONNECT_S=0 (exit 2)"
contains "$err" "LABGATE_RECONNECT_S must be seconds from 1 to 3600, not '0'" "saying what it must be"
ok "$(test ! -e "$scratch/never-reconnect/run.xml"; echo $?)" "and starts nothing"
"$LABGATE" run "$LG_SOURCE_DIR/matrix/demo.xml" --jobs zero >/dev/null 2>&1; is $? 2 "run rejects a bad --jobs"

p1=$("$LABGATE" plan "$LG_SOURCE_DIR/matrix/demo.xml"); ok $? "plan exits 0"
p2=$("$LABGATE" plan "$LG_SOURCE_DIR/matrix/demo.xml")
is "$p1" "$p2" "plan is the same on every invocation"
is "$(echo "$p1" | tail -n +2 | wc -l)" 2 "the demo plans two jobs"
contains "$p1" "faulty" "the plan lists the faulty content job"
# CI shards: every job of the plan in exactly one of N shards; bad values exit 2
demo=$LG_SOURCE_DIR/matrix/demo.xml
for n in 1 2 3; do
	all=
	for i in $(seq 1 "$n"); do
		all="$all$("$LABGATE" plan "$demo" --shard "$i/$n" | awk 'NR > 2 { print $1 }')"$'\n'
	done
	is "$(printf '%s' "$all" | sed '/^$/d' | sort)" "$(echo "$p1" | awk 'NR > 1 { print $1 }' | sort)" \
		"plan --shard I/$n over I = 1..$n lists every job of the plan exactly once"
done
for bad in 0/2 3/2 1/0 x; do
	err=$("$LABGATE" plan "$demo" --shard "$bad" 2>&1 >/dev/null); is $? 2 "plan --shard $bad exits 2"
	"$LABGATE" run "$demo" --shard "$bad" --out "$scratch/never" >/dev/null 2>&1; is $? 2 "run --shard $bad exits 2"
done
contains "$err" "--shard wants I/N (shard I of N, e.g. 1/4), not 'x'" "a bad --shard says what it wants"
ok "$(test ! -e "$scratch/never"; echo $?)" "and starts nothing"
out=$("$LABGATE" merge --help); ok $? "merge --help exits 0"
contains "$out" "hard-linked" "merge --help says how the artifacts get into OUT"
"$LABGATE" merge "$scratch" >/dev/null 2>&1; is $? 2 "merge without --out exits 2"
err=$("$LABGATE" merge "$scratch/none" --out "$scratch/merged" 2>&1 >/dev/null); is $? 2 "merge of a missing directory exits 2"
contains "$err" "$scratch/none: no such directory" "and names it"
# domxml: what a run would define, for every shipped profile, valid for libvirt
for profile in "$LG_SOURCE_DIR"/guests/profiles/*.xml "$LG_SOURCE_DIR"/bench/profiles/*.xml; do
	name=${profile#"$LG_SOURCE_DIR"/}
	"$LABGATE" domxml "$profile" >"$scratch/dom.xml" 2>/dev/null; ok $? "domxml $name exits 0"
	virt-xml-validate "$scratch/dom.xml" domain >/dev/null 2>&1; ok $? "domxml $name validates against libvirt's domain schema"
done
xml=$("$LABGATE" domxml "$LG_SOURCE_DIR/guests/profiles/linux-x86_64.xml" --strict 2>/dev/null)
contains "$xml" "hostfwd=tcp:127.0.0.1:SSH_PORT-:22" "domxml shows the ssh port as a placeholder"
contains "$xml" "labgate-RUN_ID-JOB_ID" "domxml shows run and job ids as placeholders"
contains "$xml" "oops=panic" "domxml --strict adds strict mode's kernel arguments"
contains "$("$LABGATE" domxml "$LG_SOURCE_DIR/guests/profiles/linux-x86_64.xml" --accel kvm 2>/dev/null)" 'type="kvm"' \
	"domxml --accel kvm gives a kvm domain"
err=$("$LABGATE" domxml "$LG_SOURCE_DIR/matrix/demo.xml" 2>&1 >/dev/null); is $? 2 "domxml of a matrix (not a profile) exits 2"
contains "$err" "demo.xml:" "and names the file"
"$LABGATE" domxml --accel fast "$LG_SOURCE_DIR/guests/profiles/linux-x86_64.xml" >/dev/null 2>&1; is $? 2 "domxml rejects a bad --accel"

fx=$LG_SOURCE_DIR/tests/fixtures/console
out=$("$LABGATE" triage "$fx/linux-x86_64-faulty-content-panic.log"); is $? 1 "triage of a crash log exits 1"
is "$out" "BUG: kernel NULL pointer dereference in sampledrv_parse_record" "triage prints the crash title"
out=$("$LABGATE" triage - <"$fx/linux-x86_64-faulty-at-boot.log"); is $? 1 "triage reads stdin with -"
is "$out" "BUG: kernel NULL pointer dereference in sampledrv_parse_record" "the same title from stdin"
out=$("$LABGATE" triage "$fx/linux-x86_64-clean-boot.log"); is $? 0 "triage of a clean boot exits 0"
is "$out" "" "and prints nothing"
"$LABGATE" triage "$scratch/no-such.log" 2>/dev/null; is $? 2 "triage of a missing file exits 2"
# verify-release and compare, on hand-written results (no guest boots):
# runs/release is complete, runs/old -> runs/new a nightly with a regression.
runs=$LG_SOURCE_DIR/tests/fixtures/runs
tree_sha256() { # the tree digest of base/sha256.h, computed with coreutils
	(cd "$1" && find -L . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 -r sha256sum --) | sha256sum | cut -d' ' -f1
}
for d in builds/agent-7.11 builds/agent-7.12 content/c-290 content/c-291; do
	kind=${d%%/*}
	is "$(xpath "$runs/release/run.xml" "string(/run/inputs/${kind%s}[@id='${d#*/}']/@sha256)")" "$(tree_sha256 "$runs/$d")" \
		"the fixture run records the sha256sum tree digest of $d"
done

out=$("$LABGATE" verify-release --help); ok $? "verify-release --help exits 0"
contains "$out" "--build PATH --content PATH" "verify-release --help shows its arguments"
contains "$("$LABGATE" --help)" "verify-release DIR" "--help lists verify-release"
contains "$("$LABGATE" --help)" "compare OLD_DIR NEW_DIR" "--help lists compare"

out=$("$LABGATE" verify-release "$runs/release" --build "$runs/builds/agent-7.12" --content "$runs/content/c-291")
is $? 0 "verify-release: the candidate build with this content, all PASS, exits 0"
contains "$out" "VERIFIED: 2 jobs ran these exact files and passed" "and says how many jobs vouch for it"
contains "$out" "build   'agent-7.12': sha256 $(tree_sha256 "$runs/builds/agent-7.12")" "and names the build the digest matched"

# by content, not by path: a copy elsewhere is the same release; one changed byte is not
cp -r "$runs/builds/agent-7.12" "$scratch/release-copy"
"$LABGATE" verify-release "$runs/release" --build "$scratch/release-copy" --content "$runs/content/c-291" >/dev/null
is $? 0 "verify-release: a copy of the build in another directory verifies too"
echo "# local change" >>"$scratch/release-copy/etc/sampleagentd.conf"
changed=$(tree_sha256 "$scratch/release-copy")
out=$("$LABGATE" verify-release "$runs/release" --build "$scratch/release-copy" --content "$runs/content/c-291")
is $? 1 "verify-release: a build with one file changed exits 1"
contains "$out" "no job ran on these exact files (build sha256 $changed not in the run)" "and says its digest is not in the run"
out=$("$LABGATE" verify-release "$runs/release" --build "$runs/builds/agent-7.12" --content "$runs/builds/agent-7.11")
is $? 1 "verify-release: content the run never used exits 1"
contains "$out" "(content sha256 $(tree_sha256 "$runs/builds/agent-7.11") not in the run)" "and names the content digest"

out=$("$LABGATE" verify-release "$runs/release" --build "$runs/builds/agent-7.11" --content "$runs/content/c-291")
is $? 1 "verify-release: the build in the field crashes with this content: exits 1"
id_x86=$(xpath "$runs/release/run.xml" "string(/run/job[@guest='linux-x86_64' and @build='agent-7.11' and @content='c-291']/@id)")
contains "$out" "job $id_x86 (linux-x86_64/agent-7.11/c-291/boot) failed: CRASH: BUG: kernel NULL pointer dereference in sampledrv_parse_record" \
	"and names each failed job with its crash title"
contains "$out" "linux-aarch64/agent-7.11/c-291/boot) failed: CRASH: Unable to handle kernel NULL pointer dereference" \
	"every failed job, not only the first"
contains "$out" "NOT VERIFIED" "and says NOT VERIFIED"

out=$("$LABGATE" verify-release "$runs/new" --build "$runs/builds/agent-7.12" --content "$runs/content/c-291")
is $? 1 "verify-release: a run with an INFRA_ERROR job exits 1 even when this release's jobs passed"
contains "$out" "run incomplete: job" "and says the run is incomplete"
contains "$out" "INFRA_ERROR: cannot start domain" "with the infrastructure failure"
mkdir -p "$scratch/incomplete"
sed 's/outcome="blocked" exit-code="1"/outcome="incomplete" exit-code="3"/' "$runs/release/run.xml" >"$scratch/incomplete/run.xml"
out=$("$LABGATE" verify-release "$scratch/incomplete" --build "$runs/builds/agent-7.12" --content "$runs/content/c-291")
is $? 1 "verify-release: an incomplete run exits 1"
contains "$out" "run incomplete: outcome is 'incomplete'" "and says why"
mkdir -p "$scratch/undecided"
sed '0,/verdict="PASS"/s/ verdict="PASS"//' "$runs/release/run.xml" >"$scratch/undecided/run.xml"
out=$("$LABGATE" verify-release "$scratch/undecided" --build "$runs/builds/agent-7.12" --content "$runs/content/c-291")
is $? 1 "verify-release: a job without a verdict exits 1"
contains "$out" "has no verdict" "and names it"

err=$("$LABGATE" verify-release "$scratch/no-such-run" --build "$runs/builds/agent-7.12" --content "$runs/content/c-291" 2>&1 >/dev/null)
is $? 2 "verify-release: a missing results directory exits 2"
contains "$err" "no-such-run: no such directory" "and says so"
mkdir -p "$scratch/empty-run"
err=$("$LABGATE" verify-release "$scratch/empty-run" --build "$runs/builds/agent-7.12" --content "$runs/content/c-291" 2>&1 >/dev/null)
is $? 2 "verify-release: a directory without run.xml exits 2"
contains "$err" "$scratch/empty-run/run.xml: cannot read: No such file or directory" "and names the file"
err=$("$LABGATE" verify-release "$runs/release" --build "$scratch/no-such-build" --content "$runs/content/c-291" 2>&1 >/dev/null)
is $? 2 "verify-release: an unreadable --build exits 2"
contains "$err" "no-such-build" "and names it"
mkdir -p "$scratch/malformed"
sed '10s|</build>|</bild>|' "$runs/release/run.xml" >"$scratch/malformed/run.xml"
err=$("$LABGATE" verify-release "$scratch/malformed" --build "$runs/builds/agent-7.12" --content "$runs/content/c-291" 2>&1 >/dev/null)
is $? 2 "verify-release: a malformed run.xml exits 2"
contains "$err" "$scratch/malformed/run.xml:10: Opening and ending tag mismatch" "with FILE:LINE"
"$LABGATE" verify-release "$runs/release" --build "$runs/builds/agent-7.12" >/dev/null 2>&1
is $? 2 "verify-release without --content exits 2"

out=$("$LABGATE" compare --help); ok $? "compare --help exits 0"
out=$("$LABGATE" compare "$runs/old" "$runs/new"); is $? 1 "compare: a new failure exits 1"
job_id() { # job_id GUEST BUILD CONTENT [SCENARIO]: a job's id in the fixture runs
	xpath "$runs/new/run.xml" "string(/run/job[@guest='$1' and @build='$2' and @content='$3' and @scenario='${4:-boot}']/@id)"
}
contains "$out" "NEW FAILURES (1)
  $(job_id linux-x86_64 agent-7.11 c-291)  linux-x86_64/agent-7.11/c-291/boot: PASS -> CRASH: BUG: kernel NULL pointer dereference in sampledrv_parse_record" \
	"compare lists the new failure with its crash title"
contains "$out" "STILL FAILING (2)" "compare lists what still fails"
contains "$out" "linux-aarch64/agent-7.11/c-290/boot: CRASH: Unable to handle kernel NULL pointer dereference in sampledrv_parse_record
" "a failure with the same title is listed as it is"
contains "$out" "linux-aarch64/agent-7.11/c-291/boot: CRASH: BUG: KASAN: slab-out-of-bounds in sampledrv_match_rule (changed; was BOOT_LOOP: boot loop: guest reset 2 times in a row without reaching ready)" \
	"a changed failure shows the old verdict and title"
contains "$out" "FIXED (1)
  $(job_id linux-x86_64 agent-7.12 c-290)  linux-x86_64/agent-7.12/c-290/boot: HANG: heartbeat lost" "compare lists the fix"
contains "$out" "INCOMPLETE (no verdict: harness or hypervisor failure) (2)" "INFRA_ERROR jobs are listed apart"
contains "$out" "linux-aarch64/agent-7.12/c-290/boot: PASS -> INFRA_ERROR: cannot start domain" "PASS -> INFRA_ERROR is incomplete, not a new failure"
contains "$out" "linux-aarch64/agent-7.12/c-291/boot: INFRA_ERROR: libvirt connection lost: End of file while reading data: Input/output error -> PASS" \
	"INFRA_ERROR -> PASS is incomplete, not fixed"
contains "$out" "ONLY IN OLD RUN (1)
  $(xpath "$runs/old/run.xml" "string(/run/job[@scenario='stress']/@id)")  linux-x86_64/agent-7.12/c-290/stress: PASS" "a job only in the old run is listed"
contains "$out" "ONLY IN NEW RUN (1)
  $(job_id linux-x86_64 agent-7.12 c-291 stress)  linux-x86_64/agent-7.12/c-291/stress: PASS" "a job only in the new run is listed"
contains "$out" "content c-291: sha256 $(xpath "$runs/old/run.xml" "string(/run/inputs/content[@id='c-291']/@sha256)") -> $(tree_sha256 "$runs/content/c-291")" \
	"compare shows content that changed under the same id"
contains "$out" "1 new failure, 2 still failing, 1 fixed, 2 incomplete, 2 passing in both, 1 only in old, 1 only in new" "compare counts every kind"
out=$("$LABGATE" compare "$runs/new" "$runs/release"); is $? 0 "compare: no new failure exits 0"
contains "$out" "no new failures" "and says so"
"$LABGATE" compare "$runs/old" "$runs/old" >/dev/null; is $? 0 "compare of a run with itself exits 0"
err=$("$LABGATE" compare "$runs/old" "$scratch/malformed" 2>&1 >/dev/null); is $? 2 "compare: a malformed run.xml exits 2"
contains "$err" "$scratch/malformed/run.xml:10:" "with FILE:LINE"
"$LABGATE" compare "$runs/old" "$scratch/no-such-run" >/dev/null 2>&1; is $? 2 "compare: a missing run exits 2"
"$LABGATE" compare "$runs/old" >/dev/null 2>&1; is $? 2 "compare with one argument exits 2"

# A run.xml whose crash title holds what XML allows but a terminal must not
# get raw (CR, C1 CSI, DEL): compare prints it visibly, on one line.
mkdir -p "$scratch/hostile"
sed '35s|title="BUG: kernel NULL pointer dereference in sampledrv_parse_record"|title="BUG: x\&#13;PASS -\&#155;[2J\&#127;"|' \
	"$runs/new/run.xml" >"$scratch/hostile/run.xml"
out=$("$LABGATE" compare "$runs/old" "$scratch/hostile"); is $? 1 "compare: a run with a hostile crash title exits 1"
contains "$out" 'PASS -> CRASH: BUG: x\rPASS -\u009b[2J\x7f' "compare shows the title's control characters escaped"
printf '%s' "$out" | LC_ALL=C grep -q "$(printf '[\r\177\233]')"
is $? 1 "and prints no CR, DEL or CSI byte"
# A DOCTYPE (where entity declarations live) is refused, with FILE:LINE.
mkdir -p "$scratch/doctype"
sed '1a<!DOCTYPE run [ <!ENTITY t "CRASH"> ]>' "$runs/release/run.xml" >"$scratch/doctype/run.xml"
err=$("$LABGATE" verify-release "$scratch/doctype" --build "$runs/builds/agent-7.12" --content "$runs/content/c-291" 2>&1 >/dev/null)
is $? 2 "verify-release: a run.xml with a DOCTYPE exits 2"
contains "$err" "$scratch/doctype/run.xml:2: DOCTYPE/entity declarations are not accepted" "with FILE:LINE"
# --- Every command that reads a run, on runs with hostile strings (issue 10):
# the terminal gets control characters escaped, the reports stay XML.
raw_controls() { # raw_controls TEXT: 0 when TEXT holds a raw CR, ESC, DEL, C1 CSI or U+009B
	printf '%s' "$1" | LC_ALL=C grep -q "$(printf '[\r\033\177\233]')"
}
shown='x\rPASS -\u009b[2J\x7f'
# verify-release: the hostile run's crashed job is on the build and content asked about
out=$("$LABGATE" verify-release "$scratch/hostile" --build "$runs/builds/agent-7.11" --content "$runs/content/c-291")
is $? 1 "verify-release: the hostile run's crash blocks (exit 1)"
contains "$out" "failed: CRASH: BUG: $shown" "verify-release shows the title's control characters escaped"
raw_controls "$out"; is $? 1 "verify-release prints no raw control byte"
# repro prints the original verdict and title before it runs anything (the
# matrix named here does not exist, so it stops there)
sed 's|matrix="[^"]*"|matrix="'"$scratch"'/no-such-matrix.xml"|' "$scratch/hostile/run.xml" >"$scratch/hostile/run.xml.new" &&
	mv "$scratch/hostile/run.xml.new" "$scratch/hostile/run.xml"
out=$("$LABGATE" repro "$scratch/hostile" "$(job_id linux-x86_64 agent-7.11 c-291)" 2>"$scratch/repro.err")
is $? 2 "repro: a run whose matrix is gone exits 2"
contains "$out" "originally CRASH: BUG: $shown" "repro shows the original title escaped"
raw_controls "$out$(cat "$scratch/repro.err")"; is $? 1 "repro prints no raw control byte"
# triage: escape sequences inside the report's lines never reach the title
printf 'BUG: kernel NULL pointer dereference, address: 0000000000000000\033]0;pwned\007\r\nRIP: 0010:sampledrv_\033[2Jparse_record+0x2f/0xd0 [sampledrv]\n\233[2J\377 Kernel panic - not syncing: Fatal exception\033[31m\n' \
	>"$scratch/hostile-console.log"
out=$("$LABGATE" triage "$scratch/hostile-console.log"); is $? 1 "triage of a console log with escape sequences exits 1"
is "$out" "BUG: kernel NULL pointer dereference in sampledrv_parse_record" "triage's title holds none of them"
# run --resume with every job journaled runs nothing and rebuilds the
# reports from the journal: here an entry with a hostile title, signal
# title and console excerpt (what a guest's step output becomes)
res=$scratch/hostile-resume
mkdir -p "$res"
make_matrix "$scratch/resume.xml" '<wait-ready/><exec command="true"/>'
rid=$("$LABGATE" plan "$scratch/resume.xml" | awk 'NR == 2 { print $1 }')
cat >"$res/run-meta.xml" <<XML
<?xml version="1.0"?>
<run-meta id="20261124-000000-7" matrix="$scratch/resume.xml" matrix-sha256="$(sha256sum <"$scratch/resume.xml" | cut -d' ' -f1)" started="2026-11-24T00:00:00Z" jobs="1">
  <job id="$rid"/>
</run-meta>
XML
mkdir -p "$res/jobs/$rid"
cat >"$res/jobs/$rid/result.xml" <<XML
<?xml version="1.0"?>
<job id="$rid" guest="linux-x86_64" build="agent" content="good" scenario="s" seed="1" verdict="AGENT_FAILURE" blocks="true" duration-s="3.5" boots="1">
  <evidence signal="step" title="step exec failed: x&#13;PASS -&#155;[2J&#127;" time-s="3.25" boot="1" step="exec">
    <signal name="step" verdict="AGENT_FAILURE" time-s="3.25" title="&#155;[1A&#13;PASS"/>
    <console>console &#155;[31m&#13;line &#127;</console>
  </evidence>
</job>
XML
out=$("$LABGATE" run "$scratch/resume.xml" --resume "$res" 2>"$scratch/resume.err")
is $? 1 "run --resume of a fully journaled run with a hostile entry exits with its gate (1)"
contains "$(cat "$scratch/resume.err")" "resuming run 20261124-000000-7: 0 of 1 job(s) to run" "and runs no job"
contains "$out" "$shown" "the summary shows the journaled title escaped"
raw_controls "$out$(cat "$scratch/resume.err")"; is $? 1 "run --resume prints no raw control byte"
for f in run.xml junit.xml; do
	xmllint --noout "$res/$f" 2>/dev/null; ok $? "the rebuilt $f is well-formed XML"
done
is "$(xpath "$res/run.xml" 'string(/run/job/evidence/@title)')" "step exec failed: x$(printf '\r')PASS -$(printf '\302\233')[2J$(printf '\177')" \
	"run.xml keeps the title as the journal had it"
raw_controls "$(cat "$res/report.html")"; is $? 1 "report.html has no raw control byte"
# --retry-infra runs the INFRA_ERROR jobs again, and only with --resume
err=$("$LABGATE" run "$scratch/resume.xml" --resume "$res" --retry-infra 2>&1 >/dev/null)
is $? 1 "run --resume --retry-infra with no INFRA_ERROR job exits with the run's gate"
contains "$err" "0 of 1 job(s) to run" "and runs nothing (the journaled job is AGENT_FAILURE)"
err=$("$LABGATE" run "$scratch/resume.xml" --retry-infra 2>&1 >/dev/null)
is $? 2 "--retry-infra without --resume exits 2"
contains "$err" "--retry-infra goes with --resume DIR" "and says so"
# a run-meta.xml whose run id could name another directory is refused
sed -i 's|id="20261124-000000-7"|id="../../x"|' "$res/run-meta.xml"
err=$("$LABGATE" run "$scratch/resume.xml" --resume "$res" 2>&1 >/dev/null)
is $? 2 "run --resume refuses a run-meta.xml with a run id that is a path (exit 2)"
contains "$err" "$res/run-meta.xml:2: run id '../../x' is not one labgate makes" "naming the file, line and id"
done_testing
