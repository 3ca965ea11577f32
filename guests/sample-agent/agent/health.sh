#!/bin/sh
# Health check of the labgate sample agent: exit 0 iff the daemon is alive and
# the driver is loaded. Prints one line saying which (on failure: why, with
# the daemon's own last words if it died of a fatal error).

PID_FILE=/run/sampleagent.pid
EXIT_FILE=/run/sampleagent.exit

case "${1:-}" in
	-h|--help)
		echo "Usage: sh health.sh   (exit 0 iff sampleagentd is alive and the sampledrv driver is loaded)"
		exit 0 ;;
esac

pid=$(cat "$PID_FILE" 2>/dev/null)
why=$(head -n1 "$EXIT_FILE" 2>/dev/null)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
	if [ -n "$why" ]; then
		echo "sampleagent: unhealthy: sampleagentd exited: $why"
	elif [ -z "$pid" ]; then
		echo "sampleagent: unhealthy: daemon not running (no $PID_FILE)"
	else
		echo "sampleagent: unhealthy: daemon pid $pid is gone"
	fi
	exit 1
fi
if [ ! -d /proc/sampledrv ]; then
	echo "sampleagent: unhealthy: driver sampledrv not loaded"
	exit 1
fi
echo "sampleagent: healthy: daemon pid $pid, driver $(head -n1 /proc/sampledrv/status)"
exit 0
