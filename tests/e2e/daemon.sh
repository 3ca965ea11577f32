#!/usr/bin/env bash
# libvirtd killed in the middle of a job and started again a few seconds
# later: QEMU (and so the guest) lives on, labgate reconnects, finds its
# domain again, and the job ends with the guest's own verdict (PASS), the
# gap in its timeline and nothing left behind.  Kills only the libvirtd it
# read the PID of, never QEMU, and always leaves a libvirtd running.
# Needs root (it restarts the system daemon).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}

# as tools/quickstart.sh's start_libvirt does
start_libvirtd() {
	"$LG_SOURCE_DIR/tools/start-libvirtd.sh"
	for _ in $(seq 1 30); do
		timeout 10 virsh -c "$URI" version >/dev/null 2>&1 && return 0
		sleep 1
	done
	return 1
}
trap 'start_libvirtd; rm -rf "$scratch"' EXIT

if [ "$(id -u)" != 0 ] || [ -d /run/systemd/system ]; then
	echo "1..0 # SKIP restarts libvirtd itself: needs root and no systemd"
	exit 0
fi

make_matrix "$scratch/restart.xml" '<wait-ready/><install/><apply-content/>
  <exec command="sleep 40" timeout-s="300"/><exec command="cat /proc/uptime"/>'
"$LABGATE" run "$scratch/restart.xml" --out "$scratch/restart" >"$scratch/restart.out" 2>&1 &
pid=$!
killed=1 qemu_pid='' dom=''
for _ in $(seq 1 300); do
	dom=$(domains_matching "-$pid-")
	if [ -n "$dom" ] && grep -q "step 4/5 exec" "$scratch/restart.out"; then
		sleep 3
		qemu_pid=$(cat "/run/libvirt/qemu/$dom.pid" 2>/dev/null)
		daemon=$(pgrep -x libvirtd)
		if [ -n "$daemon" ] && [ -n "$qemu_pid" ] && kill "$daemon"; then
			for _ in $(seq 1 50); do
				kill -0 "$daemon" 2>/dev/null || break
				sleep 0.2
			done
			killed=0
		fi
		break
	fi
	sleep 1
done
ok $killed "killed libvirtd while the job's 40 s step ran"
sleep 5
kill -0 "$qemu_pid" 2>/dev/null
ok $? "QEMU outlived its daemon"
start_libvirtd
ok $? "libvirtd started again after ~5 s"
wait "$pid"
is "$?" 0 "the job went on after the restart: the release may ship (exit 0)"
run=$scratch/restart/run.xml
is "$(xpath "$run" 'string(/run/job/@verdict)')" PASS "the guest's own verdict: PASS, not INFRA_ERROR"
contains "$(cat "$scratch/restart.out")" "reattached" "the run's log records the gap"
contains "$(cat "$scratch/restart/report.html" 2>/dev/null)" "hypervisor connection lost for" \
	"the job's signal timeline records the gap"
kill -0 "$qemu_pid" 2>/dev/null
is "$?" 1 "the guest's QEMU was destroyed through the new connection"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"
is "$(pgrep -x libvirtd >/dev/null && timeout 10 virsh -c "$URI" version >/dev/null 2>&1; echo $?)" 0 \
	"libvirtd runs"
if [ "$tap_failed" -gt 0 ]; then
	diag_file "$scratch/restart.out" 40
fi
done_testing
