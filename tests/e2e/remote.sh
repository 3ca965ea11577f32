#!/usr/bin/env bash
# A second libvirt host on this machine: a dedicated user (lgremote) whose
# qemu:///session daemon is reached as
# qemu+libssh2://lgremote@127.0.0.1:PORT/session through an sshd this test
# starts on a loopback port with its own keys.  Nothing of the guest images
# is in that user's reach except what labgate uploads into its pool.
# A matrix over both hosts runs the demo's jobs (good and faulty content)
# spread across them with the verdicts of one host; the remote job's
# overlay never appears locally; a second run uploads nothing; nothing is
# left on either host (the test stops the sshd and the session daemon it
# caused, by PID).  Stopping the remote host mid-run drains it: its job
# finishes on the local host.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
export LABGATE_ACCEL=${LABGATE_ACCEL:-tcg}
RUSER=lgremote

sshd_pid=
cleanup() {
	[ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null
	# the session daemon (and its virtlogd) this test's connections started
	for pid in $(pgrep -u "$RUSER" -x libvirtd 2>/dev/null) $(pgrep -u "$RUSER" -x virtlogd 2>/dev/null); do
		kill "$pid" 2>/dev/null
	done
	rm -rf "$scratch"
}
trap cleanup EXIT

if ! id "$RUSER" >/dev/null 2>&1; then
	useradd --create-home --home-dir /home/$RUSER --shell /bin/sh "$RUSER" || { echo "Bail out! cannot create $RUSER"; exit 1; }
fi
# a locked account (useradd's '!') may not log in even with a key: no
# password at all instead
usermod -p '*' "$RUSER"
chmod 0700 /home/$RUSER
command -v /usr/sbin/sshd >/dev/null || { echo "Bail out! no sshd (tools/quickstart.sh installs openssh-server)"; exit 1; }

# the guest's images where only root reads them (QEMU reads the pools' copies)
img=$scratch/images
mkdir -m 0700 "$img"
for f in vmlinuz initrd.img rootfs.qcow2; do
	cp --sparse=always "$LG_SOURCE_DIR/guests/linux/out/x86_64/$f" "$img/$f"
done
edited_profile "$scratch/p.xml" "s#\"\.\./linux/out/x86_64/\(vmlinuz\|initrd.img\|rootfs.qcow2\)\"#\"$img/\1\"#g"
ok "$(grep -c "$img/" "$scratch/p.xml" | grep -qx 3; echo $?)" "the profile names the three images in a root-only directory"
su -s /bin/sh "$RUSER" -c "cat '$img/rootfs.qcow2'" >/dev/null 2>&1
ok "$([ $? -ne 0 ]; echo $?)" "$RUSER cannot read the guest's disk"

# the second host's sshd: its own host keys, one authorized client key
sd=$scratch/sshd
mkdir -m 0700 "$sd"
ssh-keygen -q -t ed25519 -N '' -f "$sd/host_ed25519"
ssh-keygen -q -t ecdsa -b 256 -m PEM -N '' -f "$sd/client"
install -d -m 0755 /run/sshd
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cp "$sd/client.pub" "$sd/authorized_keys"
chmod 0644 "$sd/authorized_keys"
chmod 0711 "$sd"
cat >"$sd/sshd_config" <<CFG
ListenAddress 127.0.0.1
Port $port
HostKey $sd/host_ed25519
PidFile $sd/sshd.pid
AuthorizedKeysFile $sd/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $RUSER
AllowTcpForwarding yes
CFG
/usr/sbin/sshd -D -e -f "$sd/sshd_config" 2>"$sd/sshd.log" &
sshd_pid=$!
for _ in $(seq 1 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
	sleep 0.1
done
# known_hosts from the host key itself (not what answers on the port)
echo "[127.0.0.1]:$port $(cat "$sd/host_ed25519.pub")" >"$sd/known_hosts"
RURI="qemu+libssh2://$RUSER@127.0.0.1:$port/session?keyfile=$sd/client&known_hosts=$sd/known_hosts&sshauth=privkey"
out=$(timeout 60 virsh -c "$RURI" list --all 2>&1)
ok $? "virsh reaches $RUSER's session daemon through the sshd" || { echo "# $out"; diag_file "$sd/sshd.log"; }
rvirsh() { timeout 60 virsh -c "$RURI" "$@"; }
rpool_volumes() { rvirsh vol-list labgate 2>/dev/null | awk 'NR > 2 && $1 != "" { print $1 }'; }

# an unknown host key is refused with a clear message
echo "[127.0.0.1]:$port $(ssh-keygen -q -t ed25519 -N '' -f "$sd/other" <<<y >/dev/null; cat "$sd/other.pub")" >"$sd/known_hosts.wrong"

# the demo's jobs (matrix/demo.xml), one slot per host, fewer reboots
matrix() { # matrix FILE HOSTS CONTENTS
	cat >"$1" <<XML
<?xml version="1.0"?>
<matrix name="remote">
  <hosts>$2</hosts>
  <guests><guest id="linux-x86_64" profile="$scratch/p.xml"/></guests>
  <builds><build id="sample-agent-1.0" dir="$LG_SOURCE_DIR/guests/sample-agent/out/x86_64/sample-agent-1.0"
           status="candidate" health="sh ./health.sh" processes="sampleagentd"/></builds>
  <contents>$3</contents>
  <scenarios><scenario id="install-content-reboot">
    <wait-ready/><install/><apply-content/><reboot count="1"/><exec command="sh /opt/labgate/build/health.sh"/>
  </scenario></scenarios>
  <policy boot-timeout-s="60" step-timeout-s="120" heartbeat-interval-s="5" heartbeat-misses="4"
          crash-grace-s="3" tcg-scale="4" accel="tcg" strict="true" memory-dump="on-crash"/>
</matrix>
XML
}
both="<host id=\"local\" uri=\"$URI\" slots=\"1\"/><host id=\"remote\" uri=\"$(echo "$RURI" | sed 's/&/\&amp;/g')\" slots=\"1\" pool-dir=\"/home/$RUSER/labgate-pool\"/>"
good='<content id="good" dir="'$LG_SOURCE_DIR'/guests/sample-agent/content/good"/>'
faulty='<content id="faulty" dir="'$LG_SOURCE_DIR'/guests/sample-agent/content/faulty"/>'
matrix "$scratch/m.xml" "$both" "$good$faulty"

start=$(date +%s)
"$LABGATE" run "$scratch/m.xml" --out "$scratch/out1" >"$scratch/run1.out" 2>"$scratch/run1.err" &
harness=$!
# while it runs: the remote job's overlay is a volume of the remote pool, never local
seen_remote=
for _ in $(seq 1 300); do
	seen_remote=$(rpool_volumes | grep -E '^labgate-.*\.qcow2$' | head -n 1)
	[ -n "$seen_remote" ] && break
	kill -0 "$harness" 2>/dev/null || break
	sleep 0.5
done
ok "$(test -n "$seen_remote"; echo $?)" "a job's overlay is a volume of $RUSER's pool ($seen_remote)"
is "$(find "$LABGATE_STATE_DIR" -name '*.qcow2' | head -5)" "" "no overlay appears in the local state directory"
is "$(pool_volumes | grep -xF "$seen_remote")" "" "nor in the local host's pool"
wait "$harness"; rc=$?
is "$rc" 1 "the run blocks the release (exit 1), as on one host" || diag_file "$scratch/run1.err"
run1=$scratch/out1/run.xml
echo "# run 1 took $(( $(date +%s) - start )) s"
is "$(xpath "$run1" "string(/run/job[@content='good']/@verdict)")" "PASS" "the good content passes"
is "$(xpath "$run1" "string(/run/job[@content='faulty']/@verdict)")" "CRASH" "the faulty content crashes the guest"
contains "$(xpath "$run1" "string(/run/job[@content='faulty']/evidence/@title)")" "sampledrv_parse_record" \
	"the crash is titled with the driver's function"
hosts=$(xpath "$run1" "/run/job/@host" | tr ' ' '\n' | sort -u | tr '\n' ' ')
contains "$hosts" 'host="remote"' "a job ran on the remote host ($hosts)"
contains "$hosts" 'host="local"' "a job ran on the local host"
is "$(xpath "$run1" "count(/run/host-images[@host='remote']/image)")" 3 "run.xml lists the remote host's three images"
for job in $(xpath "$run1" "/run/job[@host='remote']/@id" | sed 's/ id="\([^"]*\)"/\1 /g'); do
	ok "$(test -s "$scratch/out1/jobs/$job/qemu.log"; echo $?)" "the remote job's QEMU log was fetched through the host's SSH"
	if [ "$(xpath "$run1" "string(/run/job[@id='$job']/@verdict)")" = CRASH ]; then
		ok "$(test -s "$scratch/out1/jobs/$job/memory.kdump"; echo $?)" "its memory dump was downloaded from the pool"
	fi
done
run_id=$(xpath "$run1" 'string(/run/@id)')
assert_no_leftovers "$run_id"
is "$(rvirsh list --all --name 2>/dev/null | grep -F -- "$run_id")" "" "no domain of the run is left on the remote host"
is "$(rpool_volumes | grep -v '^sha256-[0-9a-f]\{64\}$')" "" "only digest-named images are left in the remote pool"
is "$(find /home/$RUSER/.cache/libvirt/qemu/log -name "*$run_id*" 2>/dev/null)" "" "no libvirt log of the run is left on the remote host"

# run 2: the remote host alone, the faulty content: it uploads nothing, and
# the crash's memory dump comes through the remote pool
matrix "$scratch/m2.xml" "$(echo "$both" | sed 's|<host id="local"[^>]*/>||')" "$faulty"
"$LABGATE" run "$scratch/m2.xml" --out "$scratch/out2" >"$scratch/run2.out" 2>"$scratch/run2.err"
is $? 1 "run 2 on the remote host blocks the release" || diag_file "$scratch/run2.err"
run2=$scratch/out2/run.xml
is "$(xpath "$run2" "string(/run/job/@host)")" "remote" "its job ran on the remote host"
is "$(xpath "$run2" "string(/run/job/@verdict)")" "CRASH" "the faulty content crashes the guest there too"
contains "$(xpath "$run2" "string(/run/job/evidence/@title)")" "sampledrv_parse_record" "titled as on the local host"
job2=$(xpath "$run2" "string(/run/job/@id)")
ok "$(test -s "$scratch/out2/jobs/$job2/memory.kdump"; echo $?)" "the crash's memory dump was downloaded from the remote pool"
contains "$(file "$scratch/out2/jobs/$job2/memory.kdump")" "kdump compressed dump" "it is kdump-compressed, as a local host's"
ok "$(test -s "$scratch/out2/jobs/$job2/qemu.log"; echo $?)" "QEMU's log was fetched through the host's SSH"
is "$(xpath "$run2" "count(/run/host-images[@host='remote']/image[@action='uploaded'])")" 0 "run 2 uploads nothing"
is "$(xpath "$run2" "count(/run/host-images[@host='remote']/image[@action='reused'])")" 3 "it reuses the three images"
is "$(find "/home/$RUSER/labgate-pool" -mindepth 1 ! -name 'sha256-*')" "" "no dump or overlay is left in the remote pool's directory"

# a host whose key is not the known one is refused, never trusted
sed "s|known_hosts=$sd/known_hosts|known_hosts=$sd/known_hosts.wrong|" "$scratch/m2.xml" >"$scratch/m3.xml"
"$LABGATE" run "$scratch/m3.xml" --out "$scratch/out3" >"$scratch/run3.out" 2>"$scratch/run3.err"
is $? 3 "a host with an unknown key: the run is incomplete (exit 3)"
contains "$(cat "$scratch/run3.out" "$scratch/run3.err")" "known_hosts" "the message names the host key check"

# run 4: the remote host goes away while its job runs (its sshd, then its
# session daemon, stopped by PID): the host is drained, the job runs again
# on the local host with the verdict of one host; once the sshd is back,
# labgate gc on the remote URI removes the guest the dead daemon left.
remote_first="<host id=\"remote\" uri=\"$(echo "$RURI" | sed 's/&/\&amp;/g')\" slots=\"1\" pool-dir=\"/home/$RUSER/labgate-pool\"/><host id=\"local\" uri=\"$URI\" slots=\"1\"/>"
matrix "$scratch/m4.xml" "$remote_first" "$faulty"
LABGATE_RECONNECT_S=5 "$LABGATE" run "$scratch/m4.xml" --out "$scratch/out4" >"$scratch/run4.out" 2>&1 &
harness=$!
stopped=1
for _ in $(seq 1 240); do
	if rvirsh list --name 2>/dev/null | grep -q "^labgate-.*-$harness-"; then
		kill "$sshd_pid" && wait "$sshd_pid" 2>/dev/null
		sshd_pid=
		for pid in $(pgrep -u "$RUSER" -x libvirtd); do kill "$pid"; done
		stopped=0
		break
	fi
	kill -0 "$harness" 2>/dev/null || break
	sleep 0.5
done
ok $stopped "stopped the remote host's sshd and session daemon while its job ran there"
wait "$harness"
is "$?" 1 "the job ran again on the local host and its CRASH blocks the release (exit 1)" || diag_file "$scratch/run4.out"
run4=$scratch/out4/run.xml
is "$(xpath "$run4" 'string(/run/host[@id="remote"]/@state)')" drained "the remote host is drained"
is "$(xpath "$run4" 'string(/run/job/@host)')/$(xpath "$run4" 'string(/run/job/@verdict)')" local/CRASH \
	"the job's verdict comes from the local host: CRASH, as on one host"
is "$(xpath "$run4" 'string(/run/job/attempt/@host)')/$(xpath "$run4" 'string(/run/job/attempt/@verdict)')" remote/INFRA_ERROR \
	"its first try is kept: INFRA_ERROR on the remote host"
run_id=$(xpath "$run4" 'string(/run/@id)')
assert_no_leftovers "${run_id:-none}"
contains "$(cat "$scratch/run4.out")" "after the run: cannot reconnect" \
	"the summary says the remote guest could not be removed after the run (its host is gone)"
# The host back (its sshd again; the next connection starts a new session
# daemon, which re-attaches to what the old one left): labgate gc on the
# remote URI removes the guest of the drained job.
/usr/sbin/sshd -D -e -f "$sd/sshd_config" 2>>"$sd/sshd.log" &
sshd_pid=$!
for _ in $(seq 1 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
	sleep 0.1
done
timeout 120 "$LABGATE" gc --uri "$RURI" >"$scratch/gc.out" 2>&1
gc_rc=$?
is "$gc_rc" 0 "labgate gc on the remote host removes what the lost daemon left"
[ "$gc_rc" -eq 0 ] || diag_file "$scratch/gc.out"
is "$(rvirsh list --all --name 2>/dev/null | grep -F -- "$run_id")" "" "no domain of run 4 is left on the remote host"
is "$(rpool_volumes | grep -F -- "labgate-$run_id-")" "" "no overlay volume of run 4 is left in the remote pool"

is "$(rvirsh list --all --name 2>/dev/null | grep -c labgate-)" 0 "no labgate domain is left on the remote host"
is "$(rpool_volumes | grep -v '^sha256-[0-9a-f]\{64\}$')" "" "the remote pool holds only the image cache"
kill "$sshd_pid"; wait "$sshd_pid" 2>/dev/null; sshd_pid=
for pid in $(pgrep -u "$RUSER" -x libvirtd) $(pgrep -u "$RUSER" -x virtlogd); do kill "$pid"; done
# their children (virt-ssh-helper, sshd's session processes) follow
for _ in $(seq 1 50); do
	[ "$(pgrep -u "$RUSER" | wc -l)" -eq 0 ] && break
	sleep 0.2
done
is "$(pgrep -u "$RUSER" -a)" "" "the sshd and the session daemon this test caused are stopped"
done_testing
