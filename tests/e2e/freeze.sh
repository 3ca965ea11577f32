#!/usr/bin/env bash
# The freeze at the decision (issue 12 item 6): a boot loop's guest is
# stopped at the deciding reset, so its boot count, excerpt and console log
# end with the deciding boot and no later boot prints.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}
content_dir=$LG_SOURCE_DIR/guests/sample-agent/content
contents() { for c in "$@"; do printf '<content id="%s" dir="%s/%s"/>' "$c" "$content_dir" "$c"; done; }

# --- boot loop: frozen at the deciding reset
make_matrix "$scratch/loop.xml" '<wait-ready/><install/><apply-content/><reboot count="1"/>' "$(contents bootloop)"
"$LABGATE" run "$scratch/loop.xml" --out "$scratch/loop" >"$scratch/loop.out" 2>&1
is "$?" 1 "the boot loop blocks the release (exit 1)"
run=$scratch/loop/run.xml
job=/run/job
is "$(xpath "$run" "string($job/@verdict)")" BOOT_LOOP "boot-loop content: BOOT_LOOP"
frozen=$(xpath "$run" "string($job/evidence/@frozen-at-s)")
ok "$(test -n "$frozen"; echo $?)" "run.xml says when the guest was frozen ($frozen s)"
is "$(xpath "$run" "$job/evidence/@frozen-at-s >= $job/evidence/@time-s")" true "frozen at or after the decision"
echo "# decided at $(xpath "$run" "string($job/evidence/@time-s)") s, frozen at $frozen s"
is "$(xpath "$run" "$job/evidence/@frozen-at-s - $job/evidence/@time-s < 5")" true "within moments of the decision"
boots=$(xpath "$run" "string($job/@boots)")
is "$(xpath "$run" "string($job/evidence/@boot)")" "$boots" "the evidence's boot is the job's last boot ($boots)"
excerpt=$(xpath "$run" "string($job/evidence/console)")
contains "$excerpt" "labgate: boot $boots" "the excerpt is the deciding boot's"
contains "$excerpt" "boot watchdog expired" "and shows why it reset"
next=$((boots + 1))
ok "$(case "$excerpt" in *"labgate: boot $next"*) echo 1 ;; *) echo 0 ;; esac)" \
	"no later boot in the excerpt (boot $next)"
console=$scratch/loop/$(xpath "$run" "string($job/artifact[@kind='console']/@path)")
is "$(grep -c "labgate: boot $next" "$console")" 0 "the guest never printed boot $next: frozen before it"
is "$(grep -c "Linux version" "$console")" "$boots" "one kernel banner per counted boot in the console log"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"
[ "$tap_failed" -eq 0 ] || diag_file "$scratch/loop.out"

done_testing
