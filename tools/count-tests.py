#!/usr/bin/env python3
"""Sums test results over meson test logs: each TAP line of a TAP test counts
once, any other test counts as one.  Prints 'N passed, N failed[, N skipped]'
and exits 1 if anything failed or nothing ran."""
import json
import re
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError as err:
        print(f"count-tests: {err}", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        test = json.loads(line)
        out = test.get('stdout') or ''
        # meson 1.0 does not log the protocol: a TAP test shows its plan
        tap = [l for l in out.splitlines() if re.match(r'(not )?ok\b', l)]
        if tap and re.search(r'^1\.\.\d+', out, re.M):
            for l in tap:
                if re.search(r'#\s*skip', l, re.I):
                    skipped += 1
                elif l.startswith('not ok'):
                    failed += 1
                else:
                    passed += 1
            # a TAP program that crashed after its last line still fails
            if test['result'] not in ('OK', 'SKIP', 'EXPECTEDFAIL') and not any(l.startswith('not ok') for l in tap):
                failed += 1
        elif test['result'] == 'SKIP':
            skipped += 1
        elif test['result'] in ('OK', 'EXPECTEDFAIL'):
            passed += 1
        else:
            failed += 1

line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or passed == 0 else 0)
