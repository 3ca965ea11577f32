#!/usr/bin/env bash
# Verdicts other than CRASH, and cleanup on Ctrl-C.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}

# --- an agent whose install fails: AGENT_FAILURE, release blocked
broken=$scratch/broken-build
cp -r "$LG_SOURCE_DIR/guests/sample-agent/out/x86_64/sample-agent-1.0" "$broken"
printf '#!/bin/sh\necho "sampleagent: kernel $(uname -r) is not supported" >&2\nexit 3\n' >"$broken/install.sh"
make_matrix "$scratch/broken.xml" '<wait-ready/><install/>' '' "$broken"
"$LABGATE" run "$scratch/broken.xml" --out "$scratch/broken" --quiet >/dev/null 2>&1
is "$?" 1 "a failing install blocks the release (exit 1)"
run=$scratch/broken/run.xml
is "$(xpath "$run" 'string(/run/job/@verdict)')" AGENT_FAILURE "failing install: AGENT_FAILURE"
contains "$(xpath "$run" 'string(/run/job/evidence/@title)')" "install of build agent failed (exit 3): sampleagent: kernel" \
	"title carries the exit status and the install's last words"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"

# --- the agent's daemon dies while the OS lives: the health check says so
make_matrix "$scratch/dies.xml" '<wait-ready/><install/><apply-content/>
  <exec command="kill $(cat /run/sampleagent.pid)"/><exec command="sleep 300" timeout-s="600"/>'
"$LABGATE" run "$scratch/dies.xml" --out "$scratch/dies" --quiet >/dev/null 2>&1
is "$?" 1 "a dead agent blocks the release (exit 1)"
run=$scratch/dies/run.xml
is "$(xpath "$run" 'string(/run/job/@verdict)')" AGENT_FAILURE "dead agent daemon: AGENT_FAILURE"
contains "$(xpath "$run" 'string(/run/job/evidence/@title)')" "agent health check failed" "title says the health check failed"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"

# --- a guest image that is missing: INFRA_ERROR, run incomplete (exit 3)
edited_profile "$scratch/missing-disk.xml" "s|\.\./linux/out/x86_64/rootfs.qcow2|$scratch/no-such-disk.qcow2|"
make_matrix "$scratch/missing.xml" '<wait-ready/>'
use_profile "$scratch/missing.xml" "$scratch/missing-disk.xml"
"$LABGATE" run "$scratch/missing.xml" --out "$scratch/missing" --quiet >/dev/null 2>&1
is "$?" 3 "a missing guest image makes the run incomplete (exit 3), not a pass or a guest failure"
is "$(xpath "$scratch/missing/run.xml" 'string(/run/job/@verdict)')" INFRA_ERROR "missing image: INFRA_ERROR"
contains "$(xpath "$scratch/missing/run.xml" 'string(/run/job/evidence/@title)')" "no-such-disk.qcow2" "title names the missing image"

# --- a guest whose ssh host key is not the profile's (another image, or
# not the guest at all): refused before authentication, INFRA_ERROR
edited_profile "$scratch/other-host-key.xml" "s|x86_64/host_key.pub|x86_64/id_ecdsa.pub|"
make_matrix "$scratch/hostkey.xml" '<wait-ready/>'
use_profile "$scratch/hostkey.xml" "$scratch/other-host-key.xml"
"$LABGATE" run "$scratch/hostkey.xml" --out "$scratch/hostkey" --quiet >/dev/null 2>&1
is "$?" 3 "a guest with another ssh host key makes the run incomplete (exit 3)"
is "$(xpath "$scratch/hostkey/run.xml" 'string(/run/job/@verdict)')" INFRA_ERROR "another host key: INFRA_ERROR"
contains "$(xpath "$scratch/hostkey/run.xml" 'string(/run/job/evidence/@title)')" \
	"ssh host key (SHA256:" "the title gives the key the guest showed"
contains "$(xpath "$scratch/hostkey/run.xml" 'string(/run/job/evidence/@title)')" "id_ecdsa.pub" \
	"and names the profile's key file"
assert_no_leftovers "$(xpath "$scratch/hostkey/run.xml" 'string(/run/@id)')"

# --- a guest that goes silent (its vCPUs paused from outside): HANG via heartbeat
make_matrix "$scratch/silent.xml" '<wait-ready/><exec command="sleep 600" timeout-s="900"/>'
sed -i 's|heartbeat-interval-s="5" heartbeat-misses="4"|heartbeat-interval-s="2" heartbeat-misses="3"|' "$scratch/silent.xml"
"$LABGATE" run "$scratch/silent.xml" --out "$scratch/silent" >"$scratch/silent.out" 2>&1 &
pid=$!
paused=1
for _ in $(seq 1 120); do
	dom=$(domains_matching "-$pid-")
	if [ -n "$dom" ] && grep -q "step 2/2 exec" "$scratch/silent.out"; then
		sleep 3
		virsh -c "$URI" suspend "$dom" >/dev/null && paused=0
		break
	fi
	sleep 1
done
ok $paused "paused the guest's vCPUs during a long step"
wait "$pid"
is "$?" 1 "a silent guest blocks the release (exit 1)"
run=$scratch/silent/run.xml
is "$(xpath "$run" 'string(/run/job/@verdict)')" HANG "silent guest: HANG"
is "$(xpath "$run" 'string(/run/job/evidence/@signal)')" heartbeat "decided by the heartbeat"
contains "$(xpath "$run" 'string(/run/job/evidence/@title)')" "heartbeat lost" "title says the heartbeat was lost"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"

# --- QEMU itself wedged (SIGSTOP): HANG, and the job still ends.  The
# freeze at the decision (then the screenshot) waits on QEMU's monitor,
# which never answers: its deadline passes, the domain is destroyed, and
# nothing is left behind.
make_matrix "$scratch/wedged.xml" '<wait-ready/><exec command="sleep 600" timeout-s="900"/>'
sed -i 's|heartbeat-interval-s="5" heartbeat-misses="4"|heartbeat-interval-s="2" heartbeat-misses="3"|' "$scratch/wedged.xml"
"$LABGATE" run "$scratch/wedged.xml" --out "$scratch/wedged" >"$scratch/wedged.out" 2>&1 &
pid=$!
qemu_pid=
# whatever happens below, never leave a stopped QEMU behind
trap '[ -n "$qemu_pid" ] && kill -CONT "$qemu_pid" 2>/dev/null; rm -rf "$scratch"' EXIT
for _ in $(seq 1 120); do
	dom=$(domains_matching "-$pid-")
	if [ -n "$dom" ] && grep -q "step 2/2 exec" "$scratch/wedged.out"; then
		sleep 3
		qemu_pid=$(cat "/run/libvirt/qemu/$dom.pid" 2>/dev/null)
		[ -n "$qemu_pid" ] && kill -STOP "$qemu_pid"
		break
	fi
	sleep 1
done
[ -n "$qemu_pid" ]
ok $? "stopped QEMU itself during a long step"
wait "$pid"
is "$?" 1 "a wedged QEMU blocks the release (exit 1)"
run=$scratch/wedged/run.xml
is "$(xpath "$run" 'string(/run/job/@verdict)')" HANG "wedged QEMU: HANG"
is "$(xpath "$run" 'count(/run/job/artifact[@kind="screenshot"])')" 0 "no screenshot from a QEMU that does not answer"
contains "$(cat "$scratch/wedged.out")" "the guest was not frozen at the decision: cannot suspend the domain: QEMU did not answer within 30 s" \
	"the freeze's deadline passed, and the log says so"
contains "$(cat "$scratch/wedged.out")" "no screenshot" "and that there is no screenshot"
kill -0 "$qemu_pid" 2>/dev/null
is "$?" 1 "the wedged QEMU was killed"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"

# --- Ctrl-C in the middle of a run: exit 3, nothing left behind
make_matrix "$scratch/long.xml" '<wait-ready/><reboot count="50"/>'
"$LABGATE" run "$scratch/long.xml" --out "$scratch/long" >"$scratch/long.out" 2>&1 &
pid=$!
started=1
for _ in $(seq 1 120); do
	if [ -n "$(domains_matching "-$pid-")" ] && grep -q "reboot 1/50" "$scratch/long.out"; then
		started=0
		break
	fi
	sleep 1
done
ok $started "the long run got a guest booted and rebooting"
kill -INT "$pid"
wait "$pid"
is "$?" 3 "Ctrl-C ends the run as incomplete (exit 3)"
is "$(xpath "$scratch/long/run.xml" 'string(/run/job/@verdict)')" INFRA_ERROR "an interrupted job is INFRA_ERROR, not PASS"
is "$(domains_matching "-$pid-")" "" "Ctrl-C left no domain defined or running"
is "$(find "$LABGATE_STATE_DIR" -name '*.qcow2' | head -5)" "" "Ctrl-C left no overlay disk"
is "$(pool_volumes | grep -F -- "-$pid-")" "" "Ctrl-C left no overlay volume in the labgate pool"
done_testing
