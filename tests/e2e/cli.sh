#!/usr/bin/env bash
# The command line as a user meets it, without booting anything.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

out=$("$LABGATE" --help); ok $? "labgate --help exits 0"
contains "$out" "run MATRIX" "--help lists the run command"
"$LABGATE" frobnicate >/dev/null 2>&1; is $? 2 "an unknown command exits 2"
out=$("$LABGATE" run --help); contains "$out" "--out DIR" "run --help describes --out"

"$LABGATE" validate "$LG_SOURCE_DIR/matrix/demo.xml" >/dev/null; is $? 0 "matrix/demo.xml is valid"

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
"$LABGATE" run "$LG_SOURCE_DIR/matrix/demo.xml" --jobs zero >/dev/null 2>&1; is $? 2 "run rejects a bad --jobs"

p1=$("$LABGATE" plan "$LG_SOURCE_DIR/matrix/demo.xml"); ok $? "plan exits 0"
p2=$("$LABGATE" plan "$LG_SOURCE_DIR/matrix/demo.xml")
is "$p1" "$p2" "plan is the same on every invocation"
is "$(echo "$p1" | tail -n +2 | wc -l)" 2 "the demo plans two jobs"
contains "$p1" "faulty" "the plan lists the faulty content job"
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
done_testing
