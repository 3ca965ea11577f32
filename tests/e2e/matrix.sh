#!/usr/bin/env bash
# The matrix across architectures and transports: x86-64 and aarch64 guests
# x good/faulty content, jobs in parallel on a host whose slots labgate works
# out itself; then a whole job over the qemu-guest-agent with the guest's
# network down, which ssh could not do.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}
src=$LG_SOURCE_DIR
agent=$src/guests/sample-agent/out
content=$src/guests/sample-agent/content
X86_TITLE="BUG: kernel NULL pointer dereference in sampledrv_parse_record"
ARM_TITLE="Unable to handle kernel NULL pointer dereference in sampledrv_parse_record"

# --- both architectures, 4 jobs, no slots= on the host
cat >"$scratch/arches.xml" <<XML
<?xml version="1.0"?>
<matrix name="arches">
  <hosts><host id="local" uri="$URI"/></hosts>
  <guests>
    <guest id="x86" profile="$src/guests/profiles/linux-x86_64.xml"/>
    <guest id="arm" profile="$src/guests/profiles/linux-aarch64.xml"/>
  </guests>
  <builds>
    <build id="agent-x86" dir="$agent/x86_64/sample-agent-1.0" status="candidate" health="sh ./health.sh"/>
    <build id="agent-arm" dir="$agent/aarch64/sample-agent-1.0" status="candidate" health="sh ./health.sh"/>
  </builds>
  <contents>
    <content id="good" dir="$content/good"/>
    <content id="faulty" dir="$content/faulty"/>
  </contents>
  <scenarios><scenario id="s"><wait-ready/><install/><apply-content/><reboot count="2"/>
    <fetch path="/var/lib/labgate/boot-count"/></scenario></scenarios>
  <exclude guest="x86" build="agent-arm"/>
  <exclude guest="arm" build="agent-x86"/>
  <policy boot-timeout-s="60" heartbeat-interval-s="5" heartbeat-misses="4" crash-grace-s="2" strict="true"/>
</matrix>
XML
"$LABGATE" run "$scratch/arches.xml" --out "$scratch/arches" >"$scratch/arches.out" 2>"$scratch/arches.err"
is "$?" 1 "a crash on either architecture blocks the release (exit 1)"
cat "$scratch/arches.err" >&2
run=$scratch/arches/run.xml
is "$(xpath "$run" 'count(/run/job)')" 4 "two guests x good/faulty: four jobs"
contains "$(cat "$scratch/arches.err")" "host local: 2 slot(s) (2 CPUs" "slots come from the host's CPUs and memory"
contains "$(cat "$scratch/arches.err")" "on 2 worker(s)" "jobs run two at a time"
for g in x86 arm; do
	is "$(xpath "$run" "string(/run/job[@guest='$g' and @content='good']/@verdict)")" PASS "$g: good content passes"
	is "$(xpath "$run" "string(/run/job[@guest='$g' and @content='good']/@boots)")" 3 "$g: and survives 2 reboots"
	is "$(xpath "$run" "string(/run/job[@guest='$g' and @content='faulty']/@verdict)")" CRASH "$g: faulty content crashes"
	is "$(xpath "$run" "count(/run/job[@guest='$g' and @content='faulty']/evidence/signal[@name='pvpanic'])")" 1 \
		"$g: the panic device reported it too"
done
is "$(cat "$scratch/arches/jobs/$(xpath "$run" "string(/run/job[@guest='arm' and @content='good']/@id)")/files/boot-count")" 3 \
	"fetch over ssh: the guest's boot counter after two reboots"
is "$(xpath "$run" "string(/run/job[@guest='x86' and @content='faulty']/evidence/@title)")" "$X86_TITLE" "x86: crash title"
is "$(xpath "$run" "string(/run/job[@guest='arm' and @content='faulty']/evidence/@title)")" "$ARM_TITLE" "arm: crash title"
contains "$(cat "$(dirname "$run")/$(xpath "$run" "string(/run/job[@guest='arm' and @content='faulty']/artifact[@kind='console']/@path)")")" \
	"pc : sampledrv_parse_record" "arm: the console log holds the arm64 report"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"

# --- qemu-ga: a whole job with the guest's network down
edited_profile "$scratch/qga-profile.xml" \
	's|<transport type="ssh"[^>]*/>|<transport type="qemu-ga"/><network probe="none" reason="the scenario takes eth0 down on purpose"/>|; s|id="linux-x86_64"|id="linux-x86_64-qga"|'

down='ip link set eth0 down'
# busybox ip prints the flags only: no UP among them
is_down="! ip link show eth0 | grep -q '[&lt;,]UP[,&gt;]'"
cat >"$scratch/qga.xml" <<XML
<?xml version="1.0"?>
<matrix name="qga">
  <hosts><host id="local" uri="$URI" slots="2"/></hosts>
  <guests><guest id="qga" profile="$scratch/qga-profile.xml"/></guests>
  <builds><build id="agent" dir="$agent/x86_64/sample-agent-1.0" status="candidate" health="sh ./health.sh"/></builds>
  <contents><content id="good" dir="$content/good"/><content id="faulty" dir="$content/faulty"/></contents>
  <scenarios><scenario id="contained">
    <wait-ready/><exec command="$down"/><install/><apply-content/><exec command="$is_down"/>
    <reboot count="1"/><exec command="$down"/><exec command="sleep 25 &amp;&amp; $is_down" timeout-s="60"/>
    <exec command="head -c 300000 /dev/urandom &gt;/tmp/blob &amp;&amp; sha256sum /tmp/blob &gt;/tmp/blob.sha256"/>
    <fetch path="/tmp/blob"/><fetch path="/tmp/blob.sha256"/>
  </scenario></scenarios>
  <policy boot-timeout-s="60" heartbeat-interval-s="5" heartbeat-misses="4" crash-grace-s="2" strict="true"/>
</matrix>
XML
"$LABGATE" validate "$scratch/qga.xml" >/dev/null
ok $? "a profile with transport qemu-ga (no ssh key) is valid"
"$LABGATE" run "$scratch/qga.xml" --out "$scratch/qga" >"$scratch/qga.out" 2>&1
is "$?" 1 "the qemu-ga run blocks on the faulty content (exit 1)"
run=$scratch/qga/run.xml
is "$(xpath "$run" "string(/run/job[@content='good']/@verdict)")" PASS \
	"good content: install, content, reboot and 25 s of heartbeats with the network down, all over qemu-ga"
is "$(xpath "$run" "string(/run/job[@content='good']/@boots)")" 2 "the reboot was seen through the agent"
good_id=$(xpath "$run" "string(/run/job[@content='good']/@id)")
files=$scratch/qga/jobs/$good_id/files
is "$(xpath "$run" "count(/run/job[@content='good']/artifact[@kind='file'])")" 2 "the fetched files are artifacts of the job"
is "$(stat -c %s "$files/blob" 2>/dev/null)" 300000 "a 300 kB guest file came back whole, in chunks, over qemu-ga"
is "$(cd "$files" && sed 's|/tmp/blob|blob|' blob.sha256 | sha256sum -c - 2>&1)" "blob: OK" "byte for byte (the guest's own sha256sum)"
is "$(xpath "$run" "string(/run/job[@content='faulty']/@verdict)")" CRASH "faulty content over qemu-ga: CRASH"
is "$(xpath "$run" "string(/run/job[@content='faulty']/evidence/@title)")" "$X86_TITLE" "with the same title"
assert_no_leftovers "$(xpath "$run" 'string(/run/@id)')"
done_testing
