#!/bin/sh
# Installs the labgate sample agent in the guest. Run as root from the build
# directory:  cd /opt/labgate/build && sh install.sh
#
# Installs sampledrv.ko, sampleagentd, the health check and the boot hook
# /etc/labgate/boot.d/50-sampleagent (driver + daemon at every boot), then
# starts them now. Exits non-zero with a message on any failure.
set -eu

PATH=/sbin:/usr/sbin:/bin:/usr/bin
export PATH

say() { echo "sample-agent install: $*"; }
die() { echo "sample-agent install: error: $*" >&2; exit 1; }

case "${1:-}" in
	-h|--help)
		echo "Usage: cd BUILD_DIR && sh install.sh"
		exit 0 ;;
	'') ;;
	*) die "unexpected argument '$1' (see --help)" ;;
esac

[ "$(id -u)" -eq 0 ] || die "must run as root"
for f in sampledrv.ko sampleagentd health.sh VERSION; do
	[ -f "$f" ] || die "$f not found in $(pwd) (run from the build directory)"
done
version=$(cat VERSION)
krel=$(uname -r)

# vermagic is "<kernel release> SMP preempt mod_unload modversions ...".
vermagic=$(tr '\000' '\n' <sampledrv.ko | sed -n 's/^vermagic=//p' | head -n1)
[ -n "$vermagic" ] || die "sampledrv.ko has no vermagic: not a kernel module?"
mod_krel=${vermagic%% *}
[ "$mod_krel" = "$krel" ] ||
	die "kernel release mismatch: sampledrv.ko was built for $mod_krel, this guest runs $krel"

# Upgrade in place: stop a running daemon and unload an old driver first.
old_pid=$(cat /run/sampleagent.pid 2>/dev/null || true)
if [ -n "$old_pid" ] && kill -0 "$old_pid" 2>/dev/null; then
	say "stopping running sampleagentd (pid $old_pid)"
	kill "$old_pid"
	i=0
	while kill -0 "$old_pid" 2>/dev/null; do
		[ "$i" -lt 50 ] || die "sampleagentd did not stop within 5 s"
		sleep 0.1
		i=$((i + 1))
	done
fi
if [ -d /proc/sampledrv ]; then
	say "unloading the running sampledrv"
	rmmod sampledrv || die "cannot unload the running sampledrv"
fi

ko_dir=/lib/modules/$krel/extra
mkdir -p "$ko_dir" /var/lib/sampleagent/content /usr/lib/sampleagent /etc/labgate/boot.d
cp sampledrv.ko "$ko_dir/sampledrv.ko"
chmod 0644 "$ko_dir/sampledrv.ko"
say "installed $ko_dir/sampledrv.ko"
cp sampleagentd /usr/sbin/sampleagentd
chmod 0755 /usr/sbin/sampleagentd
say "installed /usr/sbin/sampleagentd"
cp health.sh /usr/lib/sampleagent/health.sh
chmod 0755 /usr/lib/sampleagent/health.sh
echo "$version" >/usr/lib/sampleagent/VERSION
say "installed /usr/lib/sampleagent/health.sh"

hook=/etc/labgate/boot.d/50-sampleagent
cat >"$hook.tmp" <<'HOOK'
#!/bin/sh
# Installed by the labgate sample agent: load the driver, start the daemon and
# wait (bounded) until it has fed its content to the driver. At boot (no
# argument), then hold the boot for the content's delay-boot seconds, if any;
# install.sh runs it with --now to start the agent without holding anything.
PATH=/sbin:/usr/sbin:/bin:/usr/bin
export PATH
ko=/lib/modules/$(uname -r)/extra/sampledrv.ko
pid_file=/run/sampleagent.pid
exit_file=/run/sampleagent.exit
at_boot=1
[ "${1:-}" != --now ] || at_boot=0

if [ ! -d /proc/sampledrv ]; then
	echo "sampleagent: loading driver $ko"
	insmod "$ko" || { echo "sampleagent: error: insmod $ko failed"; exit 1; }
fi
if [ -s "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
	echo "sampleagent: daemon already running (pid $(cat "$pid_file"))"
	exit 0
fi
rm -f "$pid_file"
echo "sampleagent: starting sampleagentd"
setsid /usr/sbin/sampleagentd </dev/null >/dev/console 2>&1 &
daemon=$!
i=0
while [ ! -s "$pid_file" ]; do
	if ! kill -0 "$daemon" 2>/dev/null && [ ! -s "$pid_file" ]; then
		why=$(head -n1 "$exit_file" 2>/dev/null)
		echo "sampleagent: error: sampleagentd exited during start${why:+: $why}"
		exit 1
	fi
	if [ "$i" -ge 300 ]; then
		echo "sampleagent: error: sampleagentd not up after 30 s"
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done
echo "sampleagent: running (pid $(cat "$pid_file"))"
delay=$(sed -n 's/^delay_boot //p' /proc/sampledrv/status)
if [ "$at_boot" -eq 1 ] && [ "${delay:-0}" -gt 0 ]; then
	echo "sampleagent: holding the boot for $delay s (content setting delay-boot)"
	sleep "$delay"
	echo "sampleagent: boot hold of $delay s over"
fi
HOOK
chmod 0755 "$hook.tmp"
mv "$hook.tmp" "$hook"
say "installed boot hook $hook"
sync

say "starting the agent now"
sh "$hook" --now || die "the agent did not start (see above and the console)"
sh /usr/lib/sampleagent/health.sh || die "agent installed but not healthy"
sync
say "sample agent $version installed for kernel $krel"
