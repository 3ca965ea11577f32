#!/usr/bin/env bash
# hardening="slub" (issue 12 item 7): the sample agent's signer-overflow
# content writes 3 bytes past a slab object.  The stock guest does not
# notice (PASS); with the stock kernel's SLUB debugging on its command line
# the write is a report whose title names the agent's function (CRASH).
# Two boots.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}
content='<content id="signer-overflow" dir="'$LG_SOURCE_DIR'/guests/sample-agent/content/signer-overflow"/>'
steps='<wait-ready/><install/><apply-content/>'

# --- the same content and build, hardened and stock, side by side
make_matrix "$scratch/slub.xml" "$steps" "$content"
sed -i 's|<policy |<policy hardening="slub" |' "$scratch/slub.xml"
make_matrix "$scratch/stock.xml" "$steps" "$content"
"$LABGATE" validate "$scratch/slub.xml" >/dev/null
ok $? "a matrix with hardening=\"slub\" is valid"
"$LABGATE" run "$scratch/slub.xml" --out "$scratch/slub" >"$scratch/slub.out" 2>&1 &
slub_pid=$!
"$LABGATE" run "$scratch/stock.xml" --out "$scratch/stock" >"$scratch/stock.out" 2>&1
stock_rc=$?
wait "$slub_pid"
slub_rc=$?

run=$scratch/slub/run.xml
is "$slub_rc" 1 "hardened: the overflow blocks the release (exit 1)"
is "$(xpath "$run" 'string(/run/@hardening)')" slub "run.xml records the hardening"
contains "$(xpath "$run" 'string(/run/@hardening-cmdline)')" "slub_debug=FZPU" "and the kernel arguments it added"
is "$(xpath "$run" 'string(/run/job/@verdict)')" CRASH "hardened: CRASH"
is "$(xpath "$run" 'string(/run/job/evidence/@title)')" "BUG: Right Redzone overwritten in sampledrv_parse_signer" \
	"the title names the SLUB check and the agent's function that overran the object"
contains "$(xpath "$run" 'string(/run/job/evidence/console)')" "BUG sac_thumbprint" "the excerpt holds the SLUB report"
console=$scratch/slub/$(xpath "$run" "string(/run/job/artifact[@kind='console']/@path)")
contains "$(grep -m1 'Command line:' "$console")" "slub_debug=FZPU slab_nomerge init_on_free=1" \
	"the guest kernel booted with the heap checks"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"
[ "$slub_rc" -eq 1 ] || diag_file "$scratch/slub.out"

run=$scratch/stock/run.xml
is "$stock_rc" 0 "stock guest: the same content passes (exit 0): the overflow is latent"
is "$(xpath "$run" 'string(/run/job/@verdict)')" PASS "stock guest: PASS"
is "$(xpath "$run" 'count(/run/@hardening)')" 0 "no hardening recorded"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"
[ "$stock_rc" -eq 0 ] || diag_file "$scratch/stock.out"

done_testing
