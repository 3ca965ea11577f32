#!/usr/bin/env bash
# Starts virtlogd and libvirtd on a machine without systemd (containers, CI
# runners), the way systemd would: a clean environment (libvirtd passes its
# own to what it spawns, and a CI job's TMPDIR is no place for swtpm_setup,
# which runs as tss), and a parent that reaps.  libvirt daemonizes QEMU, so
# a QEMU that exits is reaped by the nearest subreaper or by PID 1; where
# PID 1 is not an init (a container's process_api, say) it reaps late and
# virDomainDestroy polls the zombie for ~1.5 s per job.  tini -s, a
# subreaper, reaps at once, as systemd does on a lab host.
# Does nothing for a daemon that already runs.
set -euo pipefail
clean_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8)
pgrep -x virtlogd >/dev/null || "${clean_env[@]}" virtlogd -d
if ! pgrep -x libvirtd >/dev/null; then
	if command -v tini >/dev/null; then
		# detached, holding none of the caller's descriptors (a test
		# runner waits for its pipes to close)
		(
			cd /
			for fd in /proc/"$BASHPID"/fd/*; do
				fd=${fd##*/}
				[ "$fd" -gt 2 ] && eval "exec $fd>&-"
			done
			exec "${clean_env[@]}" setsid tini -s -- libvirtd
		) </dev/null >/dev/null 2>&1 &
	else
		"${clean_env[@]}" libvirtd -d
	fi
fi
