/* The run behind report.html's tests, built in memory with no guest booted:
 * two builds (7.11 in the field, 7.12 the candidate) x two contents on two
 * guests, where content c-291 crashes 7.11 on x86-64 and hangs it on
 * aarch64, and one job lost its hypervisor.  The crash carries everything a
 * real one does: title, signal timeline, console excerpt (with < > & in it),
 * a PNG screenshot and a memory dump.
 *
 * test_html.c includes this file for its fixture; built on its own it is
 * html_fixture DIR, which writes DIR/report.html and the artifacts it links
 * to, for tests/e2e/report.sh to render in a browser. */
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "model/plan.h"
#include "reports/report.h"

#define HTML_FIXTURE_CRASH_TITLE "BUG: kernel NULL pointer dereference in sampledrv_parse_record"
#define HTML_FIXTURE_HANG_TITLE "heartbeat lost: no answer to \"true\" for 20 s, guest's console silent"
#define HTML_FIXTURE_INFRA_TITLE "libvirt connection to qemu:///system lost"
/* The console line that proves escaping: shown as characters, never markup. */
#define HTML_FIXTURE_CONSOLE_LINE \
    "[   12.401234] sampledrv: channel file C-00000291 <rule 7> len=4096 > max=512 & flags=0x80"

/* A 240x96 PNG that looks like a text console: what a guest's screen is. */
static const unsigned char html_fixture_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0xf0, 0x00, 0x00, 0x00, 0x60, 0x08, 0x02, 0x00, 0x00, 0x00, 0xac, 0x51, 0x68,
    0x86, 0x00, 0x00, 0x01, 0xaf, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0xed, 0xdd, 0x31, 0x8e, 0xc3,
    0x30, 0x0c, 0x44, 0x51, 0x1f, 0xc0, 0x45, 0x8e, 0xeb, 0x23, 0xe6, 0x56, 0x49, 0x9b, 0x14, 0x01,
    0x2c, 0x44, 0x86, 0xc9, 0xd1, 0x5b, 0xfc, 0x2a, 0xc5, 0x14, 0xbb, 0x7f, 0x09, 0x91, 0x54, 0xec,
    0x6d, 0xdf, 0x1f, 0x40, 0x0c, 0x9b, 0x5f, 0x01, 0xc2, 0x85, 0x7e, 0x7e, 0xff, 0x9c, 0xfc, 0x64,
    0x56, 0x4e, 0x6a, 0x32, 0x0a, 0x55, 0x68, 0x6a, 0x5e, 0xf1, 0x0f, 0x8f, 0x42, 0x15, 0x9a, 0xf4,
    0xa3, 0xc9, 0x68, 0x76, 0xe4, 0x20, 0xbd, 0x0a, 0xdd, 0x46, 0x68, 0x6a, 0xfe, 0x9f, 0x0c, 0x4d,
    0xa1, 0x7a, 0x0c, 0x4d, 0xa1, 0xa6, 0x90, 0xd0, 0x00, 0xa1, 0x01, 0x42, 0x03, 0x84, 0x06, 0x08,
    0x0d, 0x42, 0x9b, 0x3c, 0xc0, 0x62, 0xc5, 0x3a, 0x1a, 0x16, 0x2b, 0xd6, 0x1f, 0xb0, 0x58, 0xb1,
    0x8e, 0x86, 0xdb, 0x76, 0xf4, 0x25, 0xb4, 0xa6, 0x10, 0x9a, 0x42, 0x4d, 0x21, 0xcc, 0xa1, 0x01,
    0x42, 0x03, 0x84, 0x06, 0xa1, 0x01, 0x42, 0x03, 0x16, 0x2b, 0x92, 0x61, 0xb1, 0x62, 0x2e, 0x0e,
    0x8b, 0x15, 0x73, 0x71, 0x42, 0x53, 0xd3, 0x21, 0xc4, 0x6d, 0x3b, 0x6a, 0xba, 0x2c, 0xa5, 0x29,
    0x94, 0x0c, 0x4d, 0xa1, 0xa6, 0x10, 0xe6, 0xd0, 0x20, 0x34, 0x40, 0x68, 0x80, 0xd0, 0x00, 0xa1,
    0x01, 0x8b, 0x15, 0xc9, 0x89, 0x53, 0x17, 0x8b, 0x15, 0xc9, 0x51, 0x43, 0x43, 0x8b, 0x15, 0xc9,
    0x2a, 0x34, 0x81, 0x5c, 0x96, 0x72, 0xdb, 0x4e, 0xb2, 0x43, 0x88, 0xa6, 0x50, 0xb2, 0xa6, 0x50,
    0x53, 0x28, 0x59, 0x53, 0x08, 0x10, 0x1a, 0x20, 0x34, 0x40, 0x68, 0x80, 0xd0, 0x20, 0x74, 0xdb,
    0xc5, 0x0a, 0x10, 0xb5, 0x58, 0x01, 0xa2, 0x16, 0x2b, 0x40, 0xd4, 0x62, 0x05, 0x08, 0xbf, 0x6d,
    0x07, 0x42, 0x6b, 0x0a, 0xe1, 0xc8, 0xa1, 0x1e, 0xc3, 0x1c, 0x1a, 0x20, 0x34, 0x40, 0x68, 0x10,
    0x1a, 0x20, 0x34, 0x50, 0x55, 0xe8, 0xd7, 0x71, 0x7c, 0x72, 0xf2, 0x93, 0x59, 0x39, 0xb3, 0x92,
    0x41, 0xe8, 0x9f, 0xdc, 0xab, 0x26, 0x7d, 0x71, 0x79, 0x85, 0xae, 0x2f, 0x3d, 0x08, 0xdd, 0xb8,
    0x1e, 0x13, 0x1a, 0x03, 0x42, 0x3b, 0x84, 0x40, 0x53, 0xa8, 0x29, 0x84, 0xa6, 0x50, 0x3d, 0x86,
    0x39, 0x34, 0x40, 0x68, 0x10, 0x1a, 0x20, 0x34, 0x40, 0x68, 0x60, 0xed, 0x6f, 0xac, 0x48, 0xf6,
    0x9d, 0xa3, 0x01, 0xa1, 0xfd, 0x31, 0x24, 0x77, 0x79, 0x10, 0x85, 0xe7, 0x43, 0x4b, 0x8e, 0x7a,
    0x10, 0x85, 0x97, 0x06, 0x49, 0x8e, 0x3a, 0x84, 0x78, 0x69, 0x90, 0xe4, 0x12, 0xc9, 0x9a, 0x42,
    0xc9, 0xea, 0xb1, 0xa6, 0x50, 0xf2, 0x82, 0x4d, 0x21, 0x60, 0xb1, 0x02, 0x10, 0x1a, 0x20, 0x34,
    0x40, 0x68, 0x10, 0x5a, 0x17, 0x6f, 0x28, 0xb6, 0xce, 0xe5, 0x24, 0x02, 0x79, 0x65, 0x87, 0xdb,
    0x76, 0x92, 0xdb, 0xdf, 0x94, 0x08, 0x11, 0x9a, 0x40, 0x0e, 0x21, 0xcb, 0x55, 0x68, 0x02, 0x79,
    0x65, 0x87, 0xa6, 0x50, 0xb2, 0x7a, 0xac, 0x29, 0x94, 0x4c, 0x71, 0x73, 0x68, 0x10, 0x1a, 0x20,
    0x34, 0x70, 0x2b, 0x6f, 0x20, 0xbe, 0xb8, 0xb4, 0x42, 0x20, 0x42, 0xda, 0x00, 0x00, 0x00, 0x00,
    0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

typedef struct html_fixture {
    lg_profile profile;
    lg_guest guests[2];
    lg_build builds[2];
    lg_content contents[2];
    lg_scenario scenario;
    lg_matrix matrix;
    lg_job jobs[8];
    lg_job_result results[8];
    lg_signal_note notes[2];
    char console_logs[8][64];
    char screenshot[64];
    char memory_dump[64];
    char qemu_log[64];
    lg_plan plan;
    lg_run_report report;
} html_fixture;

static const char html_fixture_console[] =
    "[   12.398002] sampledrv: loading content c-291 (3 channel files)\n"
    HTML_FIXTURE_CONSOLE_LINE "\n"
    "[   12.402101] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
    "[   12.402300] #PF: supervisor read access in kernel mode\n"
    "[   12.402911] RIP: 0010:sampledrv_parse_record+0x4c/0x1a0 [sampledrv]\n"
    "[   12.403500] Kernel panic - not syncing: Fatal exception\n";

/* Index of the job on (guest, build, content), in plan order. */
static size_t html_fixture_index(size_t guest, size_t build, size_t content)
{
    return guest * 4 + build * 2 + content;
}

/* Fills f; with a directory, also writes the artifacts the report links to
 * (console logs, the screenshot) under it.  0 or a negative errno. */
static int html_fixture_make(html_fixture *f, const char *dir)
{
    memset(f, 0, sizeof(*f));
    f->guests[0] = (lg_guest){ .id = (char *)"linux-x86_64", .profile = &f->profile };
    f->guests[1] = (lg_guest){ .id = (char *)"linux-aarch64", .profile = &f->profile };
    f->builds[0] = (lg_build){ .id = (char *)"agent-7.11", .candidate = false };
    f->builds[1] = (lg_build){ .id = (char *)"agent-7.12", .candidate = true };
    f->contents[0] = (lg_content){ .id = (char *)"c-291" };
    f->contents[1] = (lg_content){ .id = (char *)"c-290" };
    f->scenario = (lg_scenario){ .id = (char *)"boot" };
    f->matrix = (lg_matrix){
        .path = (char *)"/srv/labgate/matrix/nightly.xml", .name = (char *)"nightly",
        .guests = f->guests, .n_guests = 2, .builds = f->builds, .n_builds = 2,
        .contents = f->contents, .n_contents = 2, .scenarios = &f->scenario, .n_scenarios = 1,
    };
    size_t n = 0;
    for (size_t g = 0; g < 2; g++)
        for (size_t b = 0; b < 2; b++)
            for (size_t c = 0; c < 2; c++) {
                lg_job *j = &f->jobs[n];
                j->guest = &f->guests[g];
                j->build = &f->builds[b];
                j->content = &f->contents[c];
                j->scenario = &f->scenario;
                lg_job_make_id(j->guest->id, j->build->id, j->content->id, j->scenario->id, j->id);
                j->seed = lg_hash64_str(j->id, 0) & 0xffffffffULL;
                lg_job_result *res = &f->results[n];
                res->evidence.panic_time_s = res->evidence.report_time_s = res->evidence.last_answer_s =
                    res->evidence.frozen_time_s = -1;
                res->duration_s = 41.5 + (double)n;
                res->boots = 2;
                res->power_cut_ms = -1;
                snprintf(f->console_logs[n], sizeof(f->console_logs[n]), "jobs/%s/console.log", j->id);
                res->console_log = f->console_logs[n];
                n++;
            }

    lg_job_result *crash = &f->results[html_fixture_index(0, 0, 0)];
    crash->power_cut_ms = 4740;
    const char *crash_id = f->jobs[html_fixture_index(0, 0, 0)].id;
    f->notes[0] = (lg_signal_note){ LG_SIGNAL_CONSOLE, LG_VERDICT_CRASH, 12.5, (char *)HTML_FIXTURE_CRASH_TITLE };
    f->notes[1] = (lg_signal_note){ LG_SIGNAL_PVPANIC, LG_VERDICT_CRASH, 12.61, (char *)"kernel panic (pvpanic)" };
    crash->evidence = (lg_evidence){
        .verdict = LG_VERDICT_CRASH, .signal = LG_SIGNAL_CONSOLE, .title = (char *)HTML_FIXTURE_CRASH_TITLE,
        .time_s = 12.5, .boot = 1, .console_excerpt = (char *)html_fixture_console,
        .signals = f->notes, .n_signals = 2,
        .panic_time_s = 12.6, .report_time_s = 12.402, .last_answer_s = 10.1, .frozen_time_s = 12.61,
    };
    crash->step = (char *)"apply-content";
    crash->boots = 1;
    crash->duration_s = 19.8;
    snprintf(f->screenshot, sizeof(f->screenshot), "jobs/%s/screenshot.png", crash_id);
    snprintf(f->memory_dump, sizeof(f->memory_dump), "jobs/%s/memory.kdump", crash_id);
    crash->screenshot = f->screenshot;
    crash->memory_dump = f->memory_dump;
    snprintf(f->qemu_log, sizeof(f->qemu_log), "jobs/%s/qemu.log", crash_id);
    crash->qemu_log = f->qemu_log;

    lg_job_result *hang = &f->results[html_fixture_index(1, 0, 0)];
    hang->evidence = (lg_evidence){
        .verdict = LG_VERDICT_HANG, .signal = LG_SIGNAL_HEARTBEAT, .title = (char *)HTML_FIXTURE_HANG_TITLE,
        .time_s = 58.2, .boot = 1, .panic_time_s = -1, .report_time_s = -1, .last_answer_s = 38.0,
        .frozen_time_s = 58.25,
    };
    hang->step = (char *)"apply-content";
    hang->boots = 1;

    lg_job_result *infra = &f->results[html_fixture_index(1, 1, 1)];
    infra->evidence = (lg_evidence){
        .verdict = LG_VERDICT_INFRA_ERROR, .signal = LG_SIGNAL_HYPERVISOR, .title = (char *)HTML_FIXTURE_INFRA_TITLE,
        .time_s = 3.0, .boot = 0, .panic_time_s = -1, .report_time_s = -1, .last_answer_s = -1,
        .frozen_time_s = -1,
    };
    infra->boots = 0;

    f->plan = (lg_plan){ .matrix = &f->matrix, .jobs = f->jobs, .n_jobs = n };
    f->report = (lg_run_report){
        .plan = &f->plan, .results = f->results, .run_id = "20261124-020000-4242",
        .started = "2026-11-24T02:00:00Z", .finished = "2026-11-24T02:09:41Z", .accel = "tcg",
        .exit_code = LG_EXIT_BLOCKED,
    };

    if (!dir)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/jobs/%s", dir, f->jobs[i].id);
        int rc = lg_mkdir_p(path, 0755);
        if (rc < 0)
            return rc;
        snprintf(path, sizeof(path), "%s/%s", dir, f->console_logs[i]);
        const char *log = i == html_fixture_index(0, 0, 0) ? html_fixture_console : "[    0.000000] Linux version 6.1.0\n";
        if ((rc = lg_write_file(path, log, strlen(log))) < 0)
            return rc;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, f->screenshot);
    return lg_write_file(path, (const char *)html_fixture_png, sizeof(html_fixture_png));
}

#ifndef LG_HTML_FIXTURE_NO_MAIN
int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: html_fixture DIR\nwrites DIR/report.html of a blocked run, and its artifacts\n");
        return 2;
    }
    static html_fixture f;
    char path[4096];
    snprintf(path, sizeof(path), "%s/report.html", argv[1]);
    if (lg_mkdir_p(argv[1], 0755) < 0 || html_fixture_make(&f, argv[1]) < 0 ||
        lg_report_write_html(&f.report, argv[1], path) < 0) {
        fprintf(stderr, "html_fixture: cannot write %s\n", path);
        return 1;
    }
    printf("%s\n", path);
    return 0;
}
#endif
