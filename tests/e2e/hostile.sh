#!/usr/bin/env bash
# Hostile input from the candidate and the guest: a build directory with a
# link to a root-only host file is refused before the guest receives any of
# it; a <fetch> of an endless guest file stops at the policy's cap at once.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}

# --- a build with a link out of its tree (to /etc/shadow): refused, INFRA_ERROR
evil=$scratch/evil-build
cp -r "$LG_SOURCE_DIR/guests/sample-agent/out/x86_64/sample-agent-1.0" "$evil"
mkdir -p "$evil/bin"
ln -s /etc/shadow "$evil/bin/y"
make_matrix "$scratch/evil.xml" '<wait-ready/><install/>' '' "$evil"
out=$("$LABGATE" validate "$scratch/evil.xml" 2>&1)
contains "$out" "link bin/y points outside the tree (/etc/shadow)" "validate warns about the link up front"
"$LABGATE" run "$scratch/evil.xml" --out "$scratch/evil" --quiet >/dev/null 2>&1
is "$?" 3 "a build with a link out of its tree makes the run incomplete (exit 3)"
run=$scratch/evil/run.xml
is "$(xpath "$run" 'string(/run/job/@verdict)')" INFRA_ERROR "link out of the tree: INFRA_ERROR"
contains "$(xpath "$run" 'string(/run/job/evidence/@title)')" \
	"upload refused: build agent: link bin/y points outside the tree (/etc/shadow)" "the title names the link and its target"
is "$(xpath "$run" 'string(/run/job/evidence/@step)')" install "refused in the install step"
job_dir=$(dirname "$(find "$scratch/evil/jobs" -name console.log | head -1)")
! grep -q "sampleagent" "$job_dir/console.log"
ok $? "the agent never loaded: the guest received nothing of the build"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"

# --- <fetch path="/dev/zero"/> with fetch-max-mib="8": AGENT_FAILURE at the cap, within seconds
make_matrix "$scratch/zero.xml" '<wait-ready/><fetch path="/dev/zero" timeout-s="900"/>'
sed -i 's|strict="true"|strict="true" fetch-max-mib="8"|' "$scratch/zero.xml"
"$LABGATE" run "$scratch/zero.xml" --out "$scratch/zero" --quiet >/dev/null 2>&1
is "$?" 1 "an endless fetched file blocks the release (exit 1)"
run=$scratch/zero/run.xml
is "$(xpath "$run" 'string(/run/job/@verdict)')" AGENT_FAILURE "/dev/zero: AGENT_FAILURE, not HANG"
contains "$(xpath "$run" 'string(/run/job/evidence/@title)')" "fetch /dev/zero failed: file too large (over 8 MiB)" \
	"the title says the file is too large"
# the step's deadline is 900 s (x the TCG scale): the job ends long before
dur=$(xpath "$run" 'string(/run/job/@duration-s)')
awk -v d="$dur" 'BEGIN { exit !(d < 180) }'
ok $? "the job ended at the cap, not at the step deadline (${dur} s, boot included)"
files=$(find "$scratch/zero/jobs" -path '*/files/*' 2>/dev/null | wc -l)
is "$files" 0 "nothing of the partial file is kept"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"

# --- a guest that prints escape sequences, CR and invalid UTF-8 on its
# console and in the failing step's last line (which becomes the title):
# run.xml and junit.xml stay well-formed, the terminal gets no raw control
# byte, and the title shows the bytes escaped
# (printf's octal escapes: ESC = \033, BEL = \007, an invalid byte = \377)
cmd="printf '\\033]0;pwned\\007\\033[2J\\033[31mred\\377 console\\r\\n' &gt; /dev/console; "
cmd+="printf 'checking\\n\\033[32mPASS -\\r\\033[0m\\377bad\\n'; exit 1"
make_matrix "$scratch/esc.xml" "<wait-ready/><exec command=\"$cmd\"/>"
"$LABGATE" run "$scratch/esc.xml" --out "$scratch/esc" >"$scratch/esc.out" 2>&1
is "$?" 1 "a failing step with hostile output blocks the release (exit 1)"
run=$scratch/esc/run.xml
xmllint --noout "$run"
ok $? "run.xml is well-formed XML"
xmllint --noout "$scratch/esc/junit.xml"
ok $? "junit.xml is well-formed XML"
is "$(xpath "$run" 'string(/run/job/@verdict)')" AGENT_FAILURE "hostile output: AGENT_FAILURE"
title=$(xpath "$run" 'string(/run/job/evidence/@title)')
contains "$title" "bad" "the title is the step's last line"
# (XML carries TAB, LF and CR faithfully; ESC and the invalid byte are U+FFFD)
case "$title" in *$'\033'* | *$'\377'*) ok 1 "no ESC or invalid byte in run.xml's title" ;; *) ok 0 "no ESC or invalid byte in run.xml's title" ;; esac
excerpt=$(xpath "$run" 'string(/run/job/evidence/console)')
contains "$excerpt" "console" "the console excerpt holds the hostile console line"
! grep -q $'\033\|\r' "$scratch/esc.out"
ok $? "labgate's terminal output has no raw ESC or CR"
contains "$(cat "$scratch/esc.out")" '\x1b[32mPASS -\r' "the summary shows the title's escapes visibly"
"$LABGATE" verify-release "$scratch/esc" --build "$LG_SOURCE_DIR/guests/sample-agent/out/x86_64/sample-agent-1.0" \
	--content "$LG_SOURCE_DIR/guests/sample-agent/content/good" >"$scratch/verify.out" 2>&1
is "$?" 1 "verify-release reads the hostile run (exit 1: blocked)"
! grep -q $'\033\|\r' "$scratch/verify.out"
ok $? "verify-release prints no raw ESC or CR"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"

done_testing
