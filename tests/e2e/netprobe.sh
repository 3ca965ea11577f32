#!/usr/bin/env bash
# The network probes (issue #15): a driver that drops every inbound packet
# once its content loads is UNREACHABLE over ssh and over qemu-ga; good
# content over qemu-ga with the probes on passes, and so does a guest whose
# network comes up a few seconds after it is ready; a profile that turns
# the probes off says why in run.xml.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}
src=$LG_SOURCE_DIR
agent=$src/guests/sample-agent/out/x86_64/sample-agent-1.0
content=$src/guests/sample-agent/content

qga='s|<transport type="ssh"[^>]*/>|<transport type="qemu-ga"/>|'
edited_profile "$scratch/qga.xml" "$qga; s|id=\"linux-x86_64\"|id=\"qga\"|"
edited_profile "$scratch/qga-off.xml" \
	's|<transport type="ssh"[^>]*/>|<transport type="qemu-ga"/><network probe="none" reason="an isolated guest: no network by design"/>|; s|id="linux-x86_64"|id="qga-off"|'
edited_profile "$scratch/ssh.xml" 's|id="linux-x86_64"|id="ssh"|'

# a boot hook that brings eth0 up 8 s after the guest is ready
hook=/etc/labgate/boot.d/50-late-net
late="mkdir -p /etc/labgate/boot.d &amp;&amp; printf '#!/bin/sh\\nip link set eth0 down\\n(sleep 8; ip link set eth0 up) &amp;\\n' &gt;$hook &amp;&amp; chmod +x $hook"
cat >"$scratch/net.xml" <<XML
<?xml version="1.0"?>
<matrix name="netprobe">
  <hosts><host id="local" uri="$URI" slots="2"/></hosts>
  <guests>
    <guest id="ssh" profile="$scratch/ssh.xml"/>
    <guest id="qga" profile="$scratch/qga.xml"/>
    <guest id="qga-off" profile="$scratch/qga-off.xml"/>
  </guests>
  <builds><build id="agent" dir="$agent" status="candidate" health="sh ./health.sh"/></builds>
  <contents><content id="good" dir="$content/good"/><content id="netdrop" dir="$content/netdrop"/></contents>
  <scenarios>
    <scenario id="content"><wait-ready/><install/><apply-content/></scenario>
    <scenario id="late"><wait-ready/><exec command="$late"/><reboot count="1"/></scenario>
    <scenario id="ready"><wait-ready/></scenario>
  </scenarios>
  <exclude guest="ssh" content="good"/>
  <exclude guest="ssh" scenario="late"/>
  <exclude guest="ssh" scenario="ready"/>
  <exclude guest="qga" content="netdrop" scenario="late"/>
  <exclude guest="qga" scenario="ready"/>
  <exclude guest="qga-off" scenario="content"/>
  <exclude guest="qga-off" scenario="late"/>
  <exclude guest="qga-off" content="netdrop"/>
  <policy boot-timeout-s="60" heartbeat-interval-s="5" heartbeat-misses="4" crash-grace-s="2" strict="true"/>
</matrix>
XML
"$LABGATE" plan "$scratch/net.xml" >"$scratch/plan.out" 2>&1
ok $? "the netprobe matrix plans"
cat "$scratch/plan.out" >&2
"$LABGATE" run "$scratch/net.xml" --out "$scratch/out" >"$scratch/run.out" 2>&1
rc=$?
cat "$scratch/run.out" >&2
is "$rc" 1 "a release whose driver cuts the network off is blocked (exit 1)"
run=$scratch/out/run.xml
job() { echo "/run/job[@guest='$1' and @content='$2' and @scenario='$3']"; }

j=$(job ssh netdrop content)
is "$(xpath "$run" "string($j/@verdict)")" UNREACHABLE "netdrop over ssh: UNREACHABLE, not HANG"
title=$(xpath "$run" "string($j/evidence/@title)")
contains "$title" "host to guest failed" "its title names the direction that failed"
contains "$title" "qemu-ga answers" "and how the guest was known alive"
is "$(xpath "$run" "string($j/evidence/@signal)")" network "the network signal decided it"

j=$(job qga netdrop content)
is "$(xpath "$run" "string($j/@verdict)")" UNREACHABLE "netdrop over qemu-ga: UNREACHABLE (the agent's channel still answers)"
title=$(xpath "$run" "string($j/evidence/@title)")
contains "$title" "failed for" "its title says for how long"
contains "$title" "qemu-ga answers" "and that the guest lived"
[ "$(xpath "$run" "string-length($j/evidence/console)" || echo 0)" -gt 0 ]
ok $? "the last console lines are its evidence"

is "$(xpath "$run" "string($(job qga good content)/@verdict)")" PASS "good content over qemu-ga with the probes on: PASS"
is "$(xpath "$run" "string($(job qga good content)/network/@probe)")" on "run.xml says the probes were on"

j=$(job qga good late)
is "$(xpath "$run" "string($j/@verdict)")" PASS "a network that comes up 8 s after ready, within the boot timeout: PASS"
is "$(xpath "$run" "string($j/@boots)")" 2 "(after the reboot that runs the late boot hook)"

j=$(job qga-off good ready)
is "$(xpath "$run" "string($j/@verdict)")" PASS "a profile with the probes off passes without them"
is "$(xpath "$run" "string($j/network/@probe)")" none "run.xml records that the probes were off"
is "$(xpath "$run" "string($j/network/@reason)")" "an isolated guest: no network by design" "and why"
is "$(xpath "$run" "count(/run/job)")" 5 "five jobs"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"
done_testing
