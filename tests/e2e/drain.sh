#!/usr/bin/env bash
# Hosts that fail (issue 13 item 5): a matrix over three hosts, two of
# which fail their check when the run starts, for real: one refuses the
# connection (nothing listens on its port), one is reached but cannot run
# the guests (libvirt's test driver has no x86_64 QEMU).  Both are drained
# before any job starts, run.xml and the summary say why, and the jobs run
# on the host that passed with the verdicts a one-host run gives them (the
# good content PASS, the faulty one CRASH).  Two boots.  Then every host
# failing: every job INFRA_ERROR "no host left", exit 3, no boot.  Then a
# host lost mid-run (below): two boots.
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

# --- a host lost mid-run: the qemu:///session daemon of a dedicated user,
# reached through its socket (so libvirt never starts another one), stopped
# by its PID while the job runs there.  The host is drained, the job runs
# again on the local host with the verdict a one-host run gives it, and
# after a final `labgate gc` nothing of the run is left on either host.
session_user=lgdrain
session_home=/var/lib/$session_user # short: QEMU's socket paths under it must fit 108 bytes
S="qemu+unix:///session?socket=$session_home/.cache/libvirt/libvirt-sock"
session_pid() { pgrep -u "$session_user" -x libvirtd; }
start_session() {
	session_pid >/dev/null && return 0
	su -s /bin/sh "$session_user" -c "cd && env -i HOME=$session_home PATH=/usr/sbin:/usr/bin:/bin \
		setsid libvirtd --timeout=0 </dev/null >/dev/null 2>&1 &"
	for _ in $(seq 1 30); do
		timeout 10 virsh -c "$S" version >/dev/null 2>&1 && return 0
		sleep 1
	done
	return 1
}
stop_session() {
	local pid
	pid=$(session_pid) || return 0
	kill "$pid"
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.2
	done
}
if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null; then
	echo "# skipping the lost host: needs root to make the session's user"
	done_testing
	exit
fi
id "$session_user" >/dev/null 2>&1 || useradd -r -m -d "$session_home" -s /usr/sbin/nologin "$session_user"
chmod 0700 "$session_home"
trap 'stop_session; rm -rf "$scratch"' EXIT
start_session
ok $? "the second host: $session_user's qemu:///session daemon runs"

make_matrix "$scratch/lost.xml" '<wait-ready/><exec command="sleep 15"/><install/><apply-content/>' \
	'<content id="faulty" dir="'$LG_SOURCE_DIR'/guests/sample-agent/content/faulty"/>'
sed -i "s|<host id=\"local\" uri=\"\([^\"]*\)\" slots=\"2\"/>|<host id=\"session\" uri=\"$S\" slots=\"1\" pool-dir=\"$session_home/labgate-pool\"/><host id=\"local\" uri=\"\1\" slots=\"1\"/>|" \
	"$scratch/lost.xml"
start=$(date +%s)
LABGATE_RECONNECT_S=5 "$LABGATE" run "$scratch/lost.xml" --out "$scratch/lost" >"$scratch/lost.out" 2>&1 &
pid=$!
stopped=1
for _ in $(seq 1 120); do
	if virsh -c "$S" list --name 2>/dev/null | grep -q "^labgate-.*-$pid-" && grep -q "step 2/4 exec" "$scratch/lost.out"; then
		stop_session && stopped=0
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 1
done
ok $stopped "stopped the session daemon (by its PID) while its job ran there"
wait "$pid"
is "$?" 1 "the job ran again on the local host and its CRASH blocks the release (exit 1)"
echo "# run took $(($(date +%s) - start)) s"
lost=$scratch/lost/run.xml
is "$(xpath "$lost" 'string(/run/host[@id="session"]/@state)')/$(xpath "$lost" 'string(/run/host[@id="session"]/@drained-at)')" \
	drained/run "the session host is drained during the run"
contains "$(xpath "$lost" 'string(/run/host[@id="session"]/@reason)')" "connection lost: libvirt at $S did not come back within 5 s" \
	"because its connection was lost"
is "$(xpath "$lost" 'string(/run/job/@host)')/$(xpath "$lost" 'string(/run/job/@verdict)')" local/CRASH \
	"the job's verdict comes from the local host: CRASH, as on one host"
is "$(xpath "$lost" 'string(/run/job/attempt/@host)')/$(xpath "$lost" 'string(/run/job/attempt/@verdict)')" session/INFRA_ERROR \
	"its first try is kept: INFRA_ERROR on the session host"
attempt=$(xpath "$lost" 'string(/run/job/attempt/@path)')
ok "$(test -n "$attempt" && test -d "$scratch/lost/$attempt"; echo $?)" "the first try's files are under $attempt"
contains "$(cat "$scratch/lost.out")" "host session: drained during the run after 1 job(s) there: connection lost" \
	"the summary says the session host was drained"
contains "$(cat "$scratch/lost.out")" "after the run: cannot reconnect" \
	"and that its guest could not be removed after the run (its daemon is gone)"
run_id=$(xpath "$lost" 'string(/run/@id)')
assert_no_leftovers "${run_id:-none}"
start_session
timeout 120 "$LABGATE" gc --uri "$S" >"$scratch/gc.out" 2>&1
is "$?" 0 "labgate gc on the session host removes what the lost connection left"
is "$(virsh -c "$S" list --all --name 2>/dev/null | grep -F -- "$run_id" | head -3)" "" \
	"no domain of the run is left on the session host"
is "$(virsh -c "$S" vol-list labgate 2>/dev/null | grep -F -- "labgate-$run_id-" | head -3)" "" \
	"no overlay volume of the run is left in its pool"

done_testing
