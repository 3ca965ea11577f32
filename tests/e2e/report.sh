#!/usr/bin/env bash
# report.html as a person sees it: html_fixture writes the report of a
# blocked run (no guest booted), headless Chromium prints it to PDF, and the
# checks read the text that came out, not the markup.  Chromium runs with
# every name unresolvable and its background services off, and its net log
# must show no request: the page is self-contained.
# LG_HTML_FIXTURE comes from meson; LG_ARTIFACT_DIR, when set, keeps the
# HTML, the PDF and screenshots (desktop and phone width) for a look.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
: "${LG_HTML_FIXTURE:?set LG_HTML_FIXTURE to the html_fixture binary}"

browser=$(command -v chromium || true)
if [ -z "$browser" ] || ! command -v pdftotext >/dev/null; then
	echo "1..0 # SKIP chromium or pdftotext missing (tools/quickstart.sh installs them)"
	exit 0
fi

out=$scratch/run
timeout 30 "$LG_HTML_FIXTURE" "$out" >/dev/null
ok $? "html_fixture writes a report without booting a guest"
html=$out/report.html
page="file://$html"

# chromium_run NAME ARGS...: one headless Chromium, its own profile and net
# log, nothing resolvable; stderr kept in $scratch/NAME.log
chromium_run() {
	local name=$1
	shift
	timeout -k 10 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--disable-default-apps --disable-extensions --no-default-browser-check --hide-scrollbars \
		--host-resolver-rules="MAP * ~NOTFOUND" \
		--user-data-dir="$(mktemp -d "$scratch/profile.XXXXXX")" \
		--log-net-log="$scratch/$name.netlog.json" "$@" >"$scratch/$name.log" 2>&1
}

# page_requests NETLOG...: URLs the page asked the network for.  Chromium's
# own service pings (updates, network time, accounts) share the log; they
# carry no file:// isolation key, and the resolver rule fails them anyway.
page_requests() {
	timeout 30 python3 - "$@" <<'PY'
import json, sys
for path in sys.argv[1:]:
    log = json.load(open(path))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    for event in log["events"]:
        params = event.get("params", {})
        if event["type"] == start and params.get("network_isolation_key", "").startswith("file://") \
                and not params.get("url", "").startswith(("file:", "data:")):
            print(params["url"])
PY
}

start=$(date +%s)
chromium_run pdf --no-pdf-header-footer --print-to-pdf="$scratch/report.pdf" "$page"
ok $? "chromium prints report.html to PDF"
chromium_run desktop --window-size=1280,1900 --screenshot="$scratch/report.png" "$page"
ok $? "chromium takes a screenshot at desktop width"
chromium_run phone --window-size=390,1700 --screenshot="$scratch/report-phone.png" "$page"
ok $? "chromium takes a screenshot at phone width"
echo "# chromium: $(($(date +%s) - start)) s for three renderings"
[ -s "$scratch/report.png" ] && [ -s "$scratch/report-phone.png" ]
ok $? "the screenshots are not empty"

text=$(timeout 30 pdftotext -layout "$scratch/report.pdf" - 2>/dev/null)
ok $? "pdftotext reads the PDF"

contains "$text" "RELEASE BLOCKED" "the banner says RELEASE BLOCKED"
contains "$text" "BUG: kernel NULL pointer dereference in sampledrv_parse_record" "the crash title is shown"
contains "$text" "sampledrv: channel file C-00000291 <rule 7> len=4096 > max=512 & flags=0x80" \
	"the console excerpt shows < > & as characters, on one line"
contains "$text" 'heartbeat lost: no answer to "true" for 20 s' "quotes in a title are shown as quotes"
case "$text" in *"&lt;"* | *"&gt;"* | *"&amp;"* | *"&quot;"*) ok 1 "no escaped entity is visible" ;; *) ok 0 "no escaped entity is visible" ;; esac
contains "$text" "20261124-020000-4242" "the run id is shown"
contains "$text" "tcg" "the accelerator is shown"

# the grid: the rows of the two guests, verdicts in matrix order
grid=$(printf '%s\n' "$text" | sed -n '/Guests × builds and contents/,/^[^A-Za-z]*Jobs *$/p')
row() { printf '%s\n' "$grid" | grep -E "^ *$1 " | tr -s ' ' | sed 's/^ //'; }
is "$(row linux-x86_64)" "linux-x86_64 CRASH PASS PASS PASS" "grid row linux-x86_64 shows its four verdicts"
is "$(row linux-aarch64)" "linux-aarch64 HANG PASS PASS INFRA_ERROR" "grid row linux-aarch64 shows its four verdicts"
contains "$grid" "agent-7.11" "the grid names the released build"
contains "$grid" "c-291" "the grid names the content"

crash_id=$(grep -o 'id="job-[0-9a-f]*"' "$html" | head -1 | sed 's/id="job-//; s/"//')
is "${#crash_id}" 12 "the first section is a job's"
contains "$text" "$crash_id" "the crash's job id is shown"
contains "$text" "jobs/$crash_id/console.log" "the console log is linked by its path"
contains "$text" "jobs/$crash_id/memory.kdump" "the memory dump is linked by its path"
is "$(grep -c '<section class="job ' "$html")" 8 "one section per job"

# self-contained: no reference out of the file, no request made
is "$(grep -Eio 'https?://|url\(|@import|<script|<link|<iframe' "$html" | head -3)" "" "report.html has no external reference"
is "$(grep -o 'src="[^"]\{0,22\}' "$html" | sort -u)" 'src="data:image/png;base64,' "the only image source is an embedded PNG"
is "$(page_requests "$scratch"/{pdf,desktop,phone}.netlog.json)" "" "the page requested nothing over the network"
# the control: the same check sees a page that does reach out
printf '%s\n' '<!DOCTYPE html><img src="http://canary.invalid/x.png">' >"$scratch/canary.html"
chromium_run canary --print-to-pdf="$scratch/canary.pdf" "file://$scratch/canary.html"
contains "$(page_requests "$scratch/canary.netlog.json")" "http://canary.invalid/x.png" \
	"the network check catches a page that loads an external image"

if [ -n "${LG_ARTIFACT_DIR:-}" ]; then
	mkdir -p "$LG_ARTIFACT_DIR" && cp -r "$out/." "$LG_ARTIFACT_DIR/" &&
		cp "$scratch/report.pdf" "$scratch/report.png" "$scratch/report-phone.png" "$LG_ARTIFACT_DIR/"
	echo "# rendered report kept in $LG_ARTIFACT_DIR"
fi
done_testing
