# shellcheck shell=bash
# Shared helpers for the end-to-end tests: TAP output and leak checks.
# Sourced by each test; LABGATE (the binary) and LG_SOURCE_DIR come from meson.
set -uo pipefail

: "${LABGATE:?set LABGATE to the labgate binary}"
: "${LG_SOURCE_DIR:?set LG_SOURCE_DIR to the source tree}"
URI=${LG_TEST_URI:-qemu:///system}

tap_n=0
tap_failed=0
ok() { # ok CONDITION-EXIT-STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}
is() { # is ACTUAL EXPECTED DESCRIPTION
	[ "$1" = "$2" ]
	local rc=$?
	ok $rc "$3"
	[ $rc -eq 0 ] || echo "#   got '$1', expected '$2'"
}
contains() { # contains HAYSTACK NEEDLE DESCRIPTION
	case "$1" in *"$2"*) ok 0 "$3" ;; *)
		ok 1 "$3"
		echo "#   '$2' not in (the last 4000 bytes):"
		printf '%s\n' "$1" | tail -c 4000 | sed 's/^/#     /'
		;;
	esac
}
diag_file() { # diag_file FILE [LINES]: its last lines as TAP comments
	echo "# --- the last ${2:-60} lines of $1:"
	tail -n "${2:-60}" "$1" 2>&1 | sed 's/^/#     /'
}
done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# A scratch directory QEMU (libvirt-qemu) can reach, removed at exit.  The
# state directory in it is made by labgate, as /var/lib/labgate would be
# (0711, overlays 0600).
scratch=$(mktemp -d /var/tmp/labgate-e2e.XXXXXX)
chmod 0755 "$scratch"
export LABGATE_STATE_DIR=$scratch/state
trap 'rm -rf "$scratch"' EXIT

# xpath FILE EXPR: the string value of an XPath expression
xpath() { xmllint --xpath "$2" "$1" 2>/dev/null; }

# Domains (defined or running) whose name contains $1.
domains_matching() {
	virsh -c "$URI" list --all --name 2>/dev/null | grep -F -- "$1" || true
}

# The volumes of labgate's storage pool on $URI (none: no pool yet).
pool_volumes() {
	virsh -c "$URI" vol-list labgate 2>/dev/null | awk 'NR > 2 && $1 != "" { print $1 }'
}

# Asserts nothing of run $1 is left: no domain, no overlay.
assert_no_leftovers() {
	local run_id=$1
	is "$(domains_matching "$run_id")" "" "no labgate domain of run $run_id is left defined or running"
	is "$(find "$LABGATE_STATE_DIR" -name '*.qcow2' | head -5)" "" "no overlay disk is left in the state directory"
	is "$(pool_volumes | grep -F -- "labgate-$run_id-" | head -5)" "" "no overlay volume of run $run_id is left in the labgate pool"
	is "$(find /var/log/libvirt/qemu /var/log/swtpm/libvirt/qemu -name "labgate-$run_id-*" 2>/dev/null | head -5)" "" \
		"no libvirt log of run $run_id is left beside libvirt (jobs keep them)"
}

# The x86-64 Linux profile edited by a sed expression, its image paths made
# absolute, written to $1: a profile that lives in the scratch directory.
# edited_profile FILE SED_EXPRESSION
edited_profile() {
	sed "$2; s|\"\.\./linux/out|\"$LG_SOURCE_DIR/guests/linux/out|g" \
		"$LG_SOURCE_DIR/guests/profiles/linux-x86_64.xml" >"$1"
}
# use_profile MATRIX PROFILE: every guest of the matrix on that profile
use_profile() {
	sed -i "s|profile=\"[^\"]*\"|profile=\"$2\"|" "$1"
}

# A matrix with absolute paths into the source tree, written to $1.
# make_matrix FILE SCENARIO_STEPS [CONTENTS] [BUILD_DIR]
make_matrix() {
	local file=$1 steps=$2
	local contents=${3:-'<content id="good" dir="'$LG_SOURCE_DIR'/guests/sample-agent/content/good"/>'}
	local build_dir=${4:-$LG_SOURCE_DIR/guests/sample-agent/out/x86_64/sample-agent-1.0}
	cat >"$file" <<XML
<?xml version="1.0"?>
<matrix name="e2e">
  <hosts><host id="local" uri="$URI" slots="2"/></hosts>
  <guests><guest id="linux-x86_64" profile="$LG_SOURCE_DIR/guests/profiles/linux-x86_64.xml"/></guests>
  <builds><build id="agent" dir="$build_dir" status="candidate" health="sh ./health.sh"/></builds>
  <contents>$contents</contents>
  <scenarios><scenario id="s">$steps</scenario></scenarios>
  <policy boot-timeout-s="60" heartbeat-interval-s="5" heartbeat-misses="4" crash-grace-s="2" strict="true"/>
</matrix>
XML
}
