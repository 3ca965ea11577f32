#!/usr/bin/env bash
# The debug guest (issue 12 item 8): linux-x86_64-debug boots the KASAN +
# KFENCE + lockdep + kmemleak + UBSAN kernel built from linux-source-6.1.
# The sample agent's short-ioc content reads 10 bytes past a small heap
# object: PASS on the stock guest, CRASH "KASAN: slab-out-of-bounds Read in
# sampledrv_ioc_fingerprint" on the debug guest.  dup-ioc leaks a pattern:
# PASS on the debug guest, with the end-of-job kmemleak scan's finding.
# Three jobs, two on the (slower) debug guest, side by side.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}
agents=$LG_SOURCE_DIR/guests/sample-agent/out
content=$LG_SOURCE_DIR/guests/sample-agent/content
cat >"$scratch/debug.xml" <<XML
<?xml version="1.0"?>
<matrix name="e2e-debug">
  <hosts><host id="local" uri="$URI" slots="2"/></hosts>
  <guests>
    <guest id="stock" profile="$LG_SOURCE_DIR/guests/profiles/linux-x86_64.xml"/>
    <guest id="debug" profile="$LG_SOURCE_DIR/guests/profiles/linux-x86_64-debug.xml"/>
  </guests>
  <builds>
    <build id="agent" dir="$agents/x86_64/sample-agent-1.0" status="candidate" health="sh ./health.sh"/>
    <build id="agent-debug" dir="$agents/x86_64-debug/sample-agent-1.0" status="candidate" health="sh ./health.sh"/>
  </builds>
  <contents>
    <content id="short-ioc" dir="$content/short-ioc"/>
    <content id="dup-ioc" dir="$content/dup-ioc"/>
  </contents>
  <scenarios><scenario id="s"><wait-ready/><install/><apply-content/></scenario></scenarios>
  <!-- each build is for its own guest's kernel -->
  <exclude guest="stock" build="agent-debug"/>
  <exclude guest="debug" build="agent"/>
  <exclude guest="stock" content="dup-ioc"/>
  <policy boot-timeout-s="240" step-timeout-s="240" heartbeat-interval-s="10" heartbeat-misses="6"
          crash-grace-s="3" strict="true"/>
</matrix>
XML
"$LABGATE" validate "$scratch/debug.xml" >/dev/null
ok $? "a matrix with the debug guest is valid"
"$LABGATE" run "$scratch/debug.xml" --out "$scratch/out" >"$scratch/run.out" 2>&1
rc=$?
run=$scratch/out/run.xml
job() { # job GUEST CONTENT XPATH-TAIL
	xpath "$run" "string(/run/job[@guest='$1' and @content='$2']$3)"
}
is "$rc" 1 "the latent read blocks the release (exit 1)"
is "$(job stock short-ioc /@verdict)" PASS "stock guest: short-ioc passes (the read is silent)"
is "$(job debug short-ioc /@verdict)" CRASH "debug guest: short-ioc is a CRASH"
is "$(job debug short-ioc /evidence/@title)" "KASAN: slab-out-of-bounds Read in sampledrv_ioc_fingerprint" \
	"titled by KASAN's report: the bug type, the access and the agent's function"
contains "$(job debug short-ioc /evidence/console)" "Read of size 1 at addr" "the excerpt holds KASAN's report"
console=$scratch/out/$(job debug short-ioc "/artifact[@kind='console']/@path")
contains "$(grep -m1 'Linux version' "$console")" "labgate-debug" "the debug guest ran the debug kernel"

is "$(job debug dup-ioc /@verdict)" PASS "debug guest: the leaking content passes (a leak is no crash)"
is "$(job debug dup-ioc "/finding[@signal='leak-scan']/@title")" \
	"kmemleak: 1 unreferenced object: memory leak in sac_parse_ioc" \
	"the end-of-job kmemleak scan's leak is a finding naming the allocating function"
leakfile=$scratch/out/$(job debug dup-ioc "/artifact[@kind='file' and contains(@path,'leak-scan')]/@path")
contains "$(cat "$leakfile" 2>/dev/null)" "unreferenced object 0x" "kmemleak's report is kept with the job"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"
[ "$rc" -eq 1 ] || diag_file "$scratch/run.out"
done_testing
