#!/usr/bin/env bash
# Tooling as tests: every shell script passes shellcheck, every shipped
# matrix and profile validates against matrix/schema.rng.
set -uo pipefail
src=${LG_SOURCE_DIR:?}
n=0
failed=0
check() { # check DESCRIPTION COMMAND...
	local desc=$1
	shift
	n=$((n + 1))
	local out
	if out=$("$@" 2>&1); then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		printf '%s\n' "$out" | sed 's/^/#   /' | head -40
		failed=$((failed + 1))
	fi
}
cd "$src" || exit 1
while IFS= read -r script; do
	check "shellcheck $script" shellcheck -S warning -x "$script"
done < <(git ls-files '*.sh' .ci/run 'guests/sample-agent/agent/sampleagentd' bench/detection-latency bench/boot-cycle 2>/dev/null || find . -name '*.sh' -not -path './build*')
for xml in matrix/*.xml guests/profiles/*.xml bench/matrices/*.xml bench/profiles/*.xml; do
	check "$xml matches matrix/schema.rng" xmllint --noout --relaxng matrix/schema.rng "$xml"
done
# virt/ turns libvirt into typed events and opaque handles: no libvirt
# header may reach the layers above it that decide (run, watch) or the
# plain-data layers (model, base), not even through another header.
no_libvirt() { # no_libvirt FILE
	local hits xml_inc
	xml_inc=$(pkg-config --variable=includedir libxml-2.0)/libxml2
	hits=$(cc -E -D_GNU_SOURCE -I. -Iharness -I"$xml_inc" "$1" 2>&1 |
		grep -E '^# [0-9]+ "[^"]*/libvirt/' | head -3)
	[ -z "$hits" ] || { echo "$1 includes libvirt through: $hits"; return 1; }
}
for f in harness/base/*.c harness/model/*.c harness/watch/*.c harness/run/*.c; do
	check "$f sees no libvirt header" no_libvirt "$f"
done
echo "1..$n"
[ "$failed" -eq 0 ]
