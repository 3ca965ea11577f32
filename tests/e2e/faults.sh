#!/usr/bin/env bash
# Every fault mode of the sample agent gives its verdict, its signal and a
# stable title; the good content survives 10 reboots with no false positive.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}
content_dir=$LG_SOURCE_DIR/guests/sample-agent/content
SAMPLEDRV_TITLE="BUG: kernel NULL pointer dereference in sampledrv_parse_record"
contents() { for c in "$@"; do printf '<content id="%s" dir="%s/%s"/>' "$c" "$content_dir" "$c"; done; }

# --- strict mode: good x 10 reboots, boot loop, dying agent, crash (4 jobs, 2 at a time)
make_matrix "$scratch/strict.xml" '<wait-ready/><install/><apply-content/><reboot count="10"/>' \
	"$(contents good bootloop agent-dies faulty)"
sed -i 's|<scenarios><scenario id="s">|<scenarios><scenario id="short"><wait-ready/><install/><apply-content/><reboot count="2"/><exec command="sleep 30" timeout-s="60"/></scenario><scenario id="s">|' "$scratch/strict.xml"
sed -i 's|</scenarios>|</scenarios><exclude content="good" scenario="short"/><exclude content="bootloop" scenario="s"/><exclude content="agent-dies" scenario="s"/><exclude content="faulty" scenario="s"/>|' "$scratch/strict.xml"
"$LABGATE" validate "$scratch/strict.xml" >/dev/null
ok $? "the fault-mode matrix is valid"
"$LABGATE" run "$scratch/strict.xml" --out "$scratch/strict" >"$scratch/strict.out" 2>&1
is "$?" 1 "fault modes block the release (exit 1)"
run=$scratch/strict/run.xml
is "$(xpath "$run" 'count(/run/job)')" 4 "excludes leave four jobs"
is "$(xpath "$run" 'string(/run/job[@content="good"]/@verdict)')" PASS "good content: PASS"
is "$(xpath "$run" 'string(/run/job[@content="good"]/@boots)')" 11 "good content survived 10 reboots (11 boots)"
is "$(xpath "$run" 'string(/run/job[@content="bootloop"]/@verdict)')" BOOT_LOOP "boot-loop content: BOOT_LOOP"
is "$(xpath "$run" 'string(/run/job[@content="bootloop"]/evidence/@signal)')" reboot "decided by resets counted against readiness"
is "$(xpath "$run" 'string(/run/job[@content="bootloop"]/evidence/@title)')" \
	"boot loop: guest reset 2 times in a row without reaching ready" "boot-loop title is stable and carries the count"
contains "$(xpath "$run" 'string(/run/job[@content="bootloop"]/evidence/console)')" "boot watchdog expired" \
	"boot-loop evidence shows what the guest said before it reset"
is "$(xpath "$run" 'string(/run/job[@content="agent-dies"]/@verdict)')" AGENT_FAILURE "dying agent: AGENT_FAILURE"
contains "$(xpath "$run" 'string(/run/job[@content="agent-dies"]/evidence/@title)')" "agent health check failed" \
	"title says the agent's health check failed"
is "$(xpath "$run" 'string(/run/job[@content="faulty"]/evidence/@title)')" "$SAMPLEDRV_TITLE" "strict: the crash's title"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"

# --- not strict: a kernel hang silences the guest; a slow boot overruns the boot timeout
make_matrix "$scratch/lax.xml" '<wait-ready/><install/><apply-content/><reboot count="1"/>' "$(contents hang slow-boot faulty)"
sed -i 's|strict="true"|strict="false"|; s|boot-timeout-s="60"|boot-timeout-s="15"|' "$scratch/lax.xml"
"$LABGATE" run "$scratch/lax.xml" --out "$scratch/lax" >"$scratch/lax.out" 2>&1
is "$?" 1 "hang and slow boot block the release (exit 1)"
run=$scratch/lax/run.xml
is "$(xpath "$run" 'string(/run/job[@content="hang"]/@verdict)')" HANG "kernel hang: HANG"
is "$(xpath "$run" 'string(/run/job[@content="hang"]/evidence/@signal)')" heartbeat "decided by the heartbeat"
is "$(xpath "$run" 'string(/run/job[@content="slow-boot"]/@verdict)')" BOOT_TIMEOUT "slow boot: BOOT_TIMEOUT"
contains "$(xpath "$run" 'string(/run/job[@content="slow-boot"]/evidence/@title)')" "did not become ready within 60 s (boot 2)" \
	"title names the scaled boot timeout and the boot"
# The same bug in another boot of another guest, as an oops the kernel
# survives rather than a panic: addresses, CPU, PID and timing differ, the
# title does not.
is "$(xpath "$run" 'string(/run/job[@content="faulty"]/@verdict)')" CRASH "not strict: the oops alone is a CRASH"
is "$(xpath "$run" 'string(/run/job[@content="faulty"]/evidence/@title)')" "$SAMPLEDRV_TITLE" \
	"the crash title is the same in both runs"
is "$(xpath "$run" 'count(/run/job[@content="faulty"]/evidence/signal[@name="pvpanic"])')" 0 "no panic without strict mode"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"

# --- the guest's watchdog: with a patient heartbeat (60 s), the hang is
# caught by the i6300esb the guest stopped feeding (30 s)
make_matrix "$scratch/wd.xml" '<wait-ready/><install/><apply-content/><reboot count="1"/>' "$(contents hang)"
sed -i 's|strict="true"|strict="false"|; s|heartbeat-misses="4"|heartbeat-misses="12"|' "$scratch/wd.xml"
"$LABGATE" run "$scratch/wd.xml" --out "$scratch/wd" >"$scratch/wd.out" 2>&1
is "$?" 1 "a hang caught by the watchdog blocks the release (exit 1)"
run=$scratch/wd/run.xml
is "$(xpath "$run" 'string(/run/job/@verdict)')" HANG "kernel hang: HANG"
is "$(xpath "$run" 'string(/run/job/evidence/@signal)')" watchdog "decided by the guest's watchdog device"
is "$(xpath "$run" 'string(/run/job/evidence/@title)')" "watchdog fired (action none)" "the title says the watchdog fired"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"
done_testing
