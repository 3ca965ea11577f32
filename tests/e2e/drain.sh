#!/usr/bin/env bash
# Hosts that fail (issue 13 item 5): a matrix over three hosts, two of
# which fail their check when the run starts, for real: one refuses the
# connection (nothing listens on its port), one is reached but cannot run
# the guests (libvirt's test driver has no x86_64 QEMU).  Both are drained
# before any job starts, run.xml and the summary say why, and the jobs run
# on the host that passed with the verdicts a one-host run gives them (the
# good content PASS, the faulty one CRASH).  Two boots.  Then every host
# failing: every job INFRA_ERROR "no host left", exit 3, no boot.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}

contents='<content id="good" dir="'$LG_SOURCE_DIR'/guests/sample-agent/content/good"/>
  <content id="faulty" dir="'$LG_SOURCE_DIR'/guests/sample-agent/content/faulty"/>'
make_matrix "$scratch/m.xml" '<wait-ready/><install/><apply-content/>' "$contents"
# two hosts before the one that works: matrix order is the order workers fill
sed -i 's|<hosts>|<hosts><host id="refusing" uri="qemu+tcp://127.0.0.1:9/system"/><host id="no-qemu" uri="test:///default" pool-dir="/labgate-drain-e2e"/>|' \
	"$scratch/m.xml"
start=$(date +%s)
"$LABGATE" run "$scratch/m.xml" --out "$scratch/r" >"$scratch/r.out" 2>"$scratch/r.err"
is "$?" 1 "the run is the local host's: the faulty content blocks the release (exit 1), not incomplete (3)"
echo "# run took $(($(date +%s) - start)) s"
run=$scratch/r/run.xml
is "$(xpath "$run" 'string(/run/host[@id="refusing"]/@state)')" drained "the host that refuses the connection is drained"
is "$(xpath "$run" 'string(/run/host[@id="refusing"]/@drained-at)')" check "at its check, before any job"
contains "$(xpath "$run" 'string(/run/host[@id="refusing"]/@reason)')" "check failed: connection:" \
	"run.xml says its connection failed"
is "$(xpath "$run" 'string(/run/host[@id="no-qemu"]/@state)')" drained "the host without x86_64 QEMU is drained"
contains "$(xpath "$run" 'string(/run/host[@id="no-qemu"]/@reason)')" \
	"check failed: capabilities: it runs no x86_64 guests" "run.xml says which capability it lacks"
is "$(xpath "$run" 'string(/run/host[@id="local"]/@state)')" ok "the local host passed its check"
is "$(xpath "$run" 'string(/run/host[@id="local"]/@jobs)')" 2 "and ran both jobs"
is "$(xpath "$run" 'string(/run/job[@content="good"]/@verdict)')/$(xpath "$run" 'string(/run/job[@content="faulty"]/@verdict)')" \
	"PASS/CRASH" "the verdicts of a one-host run: good PASS, faulty CRASH"
is "$(xpath "$run" 'count(/run/job[@host="local"])')" 2 "both jobs record the host they ran on"
is "$(xpath "$run" 'count(/run/job/attempt)')" 0 "no job was tried anywhere else"
contains "$(xpath "$run" 'string(/run/job[@content="faulty"]/evidence/@title)')" "sampledrv" \
	"the crash is the driver's, as on one host"
out=$(cat "$scratch/r.out")
contains "$out" "host refusing: drained at its check (no job started there): check failed: connection:" \
	"the summary says the refusing host was drained and why"
contains "$out" "host no-qemu: drained at its check (no job started there): check failed: capabilities:" \
	"and the host without x86_64 QEMU"
contains "$(cat "$scratch/r/report.html")" "<dt>Host refusing</dt><dd>drained at its check" \
	"report.html says so too"
run_id=$(xpath "$run" 'string(/run/@id)')
assert_no_leftovers "${run_id:-none}"

# every host fails its check: nothing boots, every job INFRA_ERROR, exit 3
sed 's|<host id="local" uri="[^"]*" slots="2"/>||' "$scratch/m.xml" >"$scratch/none.xml"
"$LABGATE" run "$scratch/none.xml" --out "$scratch/none" >"$scratch/none.out" 2>&1
is "$?" 3 "no host passes its check: the run is incomplete (exit 3)"
none=$scratch/none/run.xml
is "$(xpath "$none" 'count(/run/job[@verdict="INFRA_ERROR"])')" 2 "every job is INFRA_ERROR"
contains "$(xpath "$none" 'string(/run/job[1]/evidence/@title)')" \
	"no host left: host refusing: check failed: connection:" "saying no host is left, and why for each host"
contains "$(xpath "$none" 'string(/run/job[1]/evidence/@title)')" "host no-qemu: check failed: capabilities:" \
	"naming the second host's reason too"
is "$(xpath "$none" 'count(/run/job[@host])')" 0 "no job ran anywhere"

done_testing
