/* lg_matrix_load / lg_profile_load: what a user sees for a valid matrix (the
 * parsed values, warnings for guest images not built yet) and for every kind
 * of bad input (FILE:LINE: message, all problems at once). */
#include <errno.h>
#include <stdbool.h>
#include <unistd.h>

#include "lg_test.h"

#include "base/mem.h"
#include "model/diag.h"
#include "model/matrix.h"

#define MATRIX_DIR FIXTURE("matrix")
#define INVALID(name) FIXTURE("matrix/invalid/" name)
#define PROFILE(name) FIXTURE("matrix/profiles/" name)

/* ------------------------------------------------------------ diagnostics */

static void dump_diags(const lg_diags *diags)
{
    print_message("# %zu diagnostic(s):\n", diags->n);
    for (size_t i = 0; i < diags->n; i++)
        print_message("#   %s:%d: %s%s\n", diags->items[i].file, diags->items[i].line,
                      diags->items[i].warning ? "warning: " : "", diags->items[i].message);
}

static const lg_diag *find_diag(const lg_diags *diags, bool warning, const char *file, int line,
                                const char *substring)
{
    for (size_t i = 0; i < diags->n; i++) {
        const lg_diag *d = &diags->items[i];
        if (d->warning == warning && strcmp(d->file, file) == 0 && d->line == line &&
            strstr(d->message, substring))
            return d;
    }
    return NULL;
}

/* An error at exactly FILE:LINE whose message contains `substring`. */
static void expect_error(const lg_diags *diags, const char *file, int line, const char *substring)
{
    if (!find_diag(diags, false, file, line, substring)) {
        dump_diags(diags);
        fail_msg("expected an error %s:%d containing \"%s\"", file, line, substring);
    }
}

/* The first error a user reads is at FILE:LINE and says `substring`. */
static void expect_first_error(const lg_diags *diags, const char *file, int line, const char *substring)
{
    for (size_t i = 0; i < diags->n; i++) {
        const lg_diag *d = &diags->items[i];
        if (d->warning)
            continue;
        if (strcmp(d->file, file) != 0 || d->line != line || !strstr(d->message, substring)) {
            dump_diags(diags);
            fail_msg("first error should be %s:%d containing \"%s\"", file, line, substring);
        }
        return;
    }
    dump_diags(diags);
    fail_msg("no error at all; expected %s:%d \"%s\"", file, line, substring);
}

static void expect_error_count(const lg_diags *diags, size_t n)
{
    if (lg_diags_errors(diags) != n) {
        dump_diags(diags);
        fail_msg("expected %zu error(s), got %zu", n, lg_diags_errors(diags));
    }
}

/* Loads a matrix that must be rejected; the output parameter stays untouched. */
static void load_invalid(const char *path, lg_diags *diags)
{
    lg_matrix sentinel;
    lg_matrix *m = &sentinel;
    int rc = lg_matrix_load(path, &m, diags);
    if (rc != -EINVAL)
        dump_diags(diags);
    assert_int_equal(rc, -EINVAL);
    assert_ptr_equal(m, &sentinel);
    assert_true(lg_diags_errors(diags) > 0);
}

/* ------------------------------------------------------------ valid input */

static lg_matrix *load_valid(const char *path, lg_diags *diags)
{
    lg_matrix *m = NULL;
    int rc = lg_matrix_load(path, &m, diags);
    if (rc != 0)
        dump_diags(diags);
    assert_int_equal(rc, 0);
    assert_non_null(m);
    expect_error_count(diags, 0);
    return m;
}

static char *joined(const char *dir, const char *rel)
{
    char *p = lg_path_join(dir, rel);
    assert_non_null(p);
    return p;
}

static void test_valid_matrix_loads_with_only_image_warnings(void **state)
{
    (void)state;
    lg_diags diags = { 0 };
    lg_matrix *m = load_valid(FIXTURE("matrix/valid.xml"), &diags);
    char *x86 = real_path(PROFILE("linux-x86_64.xml"));
    char *arm = real_path(PROFILE("linux-aarch64.xml"));

    /* the images were never built: one warning per missing file, on the
     * line of the element naming it, and the matrix is still valid */
    assert_int_equal(diags.n, 7);
    int boot_line = line_containing(PROFILE("linux-x86_64.xml"), "<boot disk=");
    int key_line = line_containing(PROFILE("linux-x86_64.xml"), "<transport");
    assert_non_null(find_diag(&diags, true, x86, boot_line, "disk image"));
    assert_non_null(find_diag(&diags, true, x86, boot_line, "kernel"));
    assert_non_null(find_diag(&diags, true, x86, boot_line, "initrd"));
    assert_non_null(find_diag(&diags, true, x86, key_line, "ssh key"));
    assert_non_null(find_diag(&diags, true, arm, line_containing(PROFILE("linux-aarch64.xml"), "<boot"),
                              "rootfs-arm64.qcow2 does not exist yet"));
    assert_non_null(find_diag(&diags, true, arm, line_containing(PROFILE("linux-aarch64.xml"), "<transport"),
                              "ssh key"));
    for (size_t i = 0; i < diags.n; i++)
        assert_non_null(strstr(diags.items[i].message, "INFRA_ERROR"));

    lg_matrix_free(m);
    lg_diags_clear(&diags);
    free(x86);
    free(arm);
}

static void test_valid_matrix_values(void **state)
{
    (void)state;
    const char *path = FIXTURE("matrix/valid.xml");
    lg_diags diags = { 0 };
    lg_matrix *m = load_valid(path, &diags);
    char *dir = real_path(MATRIX_DIR);
    char *file = real_path(path);

    assert_string_equal(m->name, "fixture-valid");
    assert_string_equal(m->path, file);

    assert_int_equal(m->n_hosts, 2);
    assert_string_equal(m->hosts[0].id, "local");
    assert_string_equal(m->hosts[0].uri, "qemu:///system");
    assert_int_equal(m->hosts[0].slots, 2);
    assert_int_equal(m->hosts[0].line, line_containing(path, "<host id=\"local\""));
    assert_string_equal(m->hosts[1].id, "lab-1");
    assert_string_equal(m->hosts[1].uri, "qemu+ssh://lab-1.example/system");
    assert_int_equal(m->hosts[1].slots, 0); /* default: auto, decided when connected */
    assert_null(m->hosts[0].pool_dir); /* labgate chooses */
    assert_string_equal(m->hosts[1].pool_dir, "/srv/labgate/pool");

    assert_int_equal(m->n_guests, 2);
    assert_string_equal(m->guests[0].id, "linux-x86_64");
    assert_int_equal(m->guests[0].line, line_containing(path, "<guest id=\"linux-x86_64\""));
    assert_non_null(m->guests[0].profile);
    assert_string_equal(m->guests[0].profile->id, "fixture-x86_64");
    assert_string_equal(m->guests[1].id, "linux-aarch64");
    assert_non_null(m->guests[1].profile);
    assert_string_equal(m->guests[1].profile->id, "fixture-aarch64");
    /* "./profiles/../profiles/linux-aarch64.xml" resolves to the real file */
    char *arm = real_path(PROFILE("linux-aarch64.xml"));
    assert_string_equal(m->guests[1].profile->path, arm);
    free(arm);

    assert_int_equal(m->n_builds, 3);
    lg_build *b = &m->builds[0];
    char *expect = joined(dir, "builds/agent-1.0");
    assert_string_equal(b->id, "agent-1.0");
    assert_string_equal(b->dir, expect);
    free(expect);
    assert_false(b->candidate);
    assert_string_equal(b->install, "sh ./install.sh");
    assert_string_equal(b->content_hook, "sh ./apply-content.sh");
    assert_null(b->health);
    assert_int_equal(b->line, line_containing(path, "<build id=\"agent-1.0\""));

    b = &m->builds[1];
    expect = joined(dir, "builds/agent-2.0"); /* the trailing slash is gone */
    assert_string_equal(b->id, "agent-2.0");
    assert_string_equal(b->dir, expect);
    free(expect);
    assert_true(b->candidate);
    assert_string_equal(b->install, "sh ./install.sh --verbose");
    assert_string_equal(b->content_hook, "sh ./apply-content.sh");
    assert_string_equal(b->health, "sh ./health.sh");
    /* a start tag over two lines: the line where it starts */
    assert_int_equal(b->line, line_containing(path, "<build id=\"agent-2.0\""));

    b = &m->builds[2];
    /* names its commands, so it needs no install.sh */
    assert_string_equal(b->id, "agent-custom");
    assert_string_equal(b->install, "dpkg -i agent.deb");
    assert_string_equal(b->content_hook, "sh ./apply-content.sh --reload");

    assert_int_equal(m->n_contents, 2);
    assert_string_equal(m->contents[0].id, "good");
    expect = joined(dir, "content/good");
    assert_string_equal(m->contents[0].dir, expect);
    free(expect);
    assert_string_equal(m->contents[1].id, "faulty");
    expect = joined(dir, "content/faulty");
    assert_string_equal(m->contents[1].dir, expect);
    free(expect);
    assert_int_equal(m->contents[1].line, line_containing(path, "<content id=\"faulty\""));

    assert_int_equal(m->n_excludes, 1);
    assert_string_equal(m->excludes[0].guest, "linux-aarch64");
    assert_string_equal(m->excludes[0].build, "agent-1.0");
    assert_null(m->excludes[0].content);
    assert_null(m->excludes[0].scenario);
    assert_int_equal(m->excludes[0].line, line_containing(path, "<exclude"));

    assert_int_equal(m->policy.boot_timeout_s, 240);
    assert_int_equal(m->policy.step_timeout_s, 900);
    assert_int_equal(m->policy.heartbeat_interval_s, 3);
    assert_int_equal(m->policy.heartbeat_misses, 6);
    assert_int_equal(m->policy.crash_grace_s, 8);
    assert_int_equal(m->policy.tcg_scale, 3);
    assert_int_equal(m->policy.accel, LG_ACCEL_TCG);
    assert_true(m->policy.strict);
    assert_true(m->policy.seed == 42);
    assert_int_equal(m->policy.fetch_max_mib, 8);
    assert_true(m->policy.baseline_first);
    assert_int_equal(m->policy.infra_retries, 0);
    assert_int_equal(m->policy.host_drain_after, 3);

    lg_matrix_free(m);
    lg_diags_clear(&diags);
    free(dir);
    free(file);
}

static void test_valid_matrix_steps(void **state)
{
    (void)state;
    const char *path = FIXTURE("matrix/valid.xml");
    lg_diags diags = { 0 };
    lg_matrix *m = load_valid(path, &diags);

    assert_int_equal(m->n_scenarios, 2);
    const lg_scenario *sc = &m->scenarios[0];
    assert_string_equal(sc->id, "install-reboot");
    assert_int_equal(sc->line, line_containing(path, "<scenario id=\"install-reboot\""));
    assert_int_equal(sc->n_steps, 5);
    static const struct {
        lg_step_kind kind;
        const char *name;
        int count, timeout_s;
        const char *command;
        const char *line_needle;
    } want[] = {
        { LG_STEP_WAIT_READY, "wait-ready", 1, 0, NULL, "<wait-ready/>" },
        { LG_STEP_INSTALL, "install", 1, 600, NULL, "<install timeout-s=\"600\"/>" },
        { LG_STEP_APPLY_CONTENT, "apply-content", 1, 0, NULL, "<apply-content/>" },
        { LG_STEP_REBOOT, "reboot", 3, 240, NULL, "<reboot count=\"3\"" },
        { LG_STEP_EXEC, "exec", 1, 30, "sh /opt/labgate/build/health.sh", "<exec command=" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(want); i++) {
        const lg_step *st = &sc->steps[i];
        assert_int_equal(st->kind, want[i].kind);
        assert_string_equal(lg_step_kind_name(st->kind), want[i].name);
        assert_int_equal(st->count, want[i].count);
        assert_int_equal(st->timeout_s, want[i].timeout_s);
        if (want[i].command)
            assert_string_equal(st->command, want[i].command);
        else
            assert_null(st->command);
        assert_int_equal(st->line, line_containing(path, want[i].line_needle));
    }

    sc = &m->scenarios[1];
    assert_string_equal(sc->id, "smoke");
    assert_int_equal(sc->n_steps, 1);
    assert_int_equal(sc->steps[0].kind, LG_STEP_WAIT_READY);

    lg_matrix_free(m);
    lg_diags_clear(&diags);
}

/* content-reload, power-cycle, cold-boot, a power cut's window, and the
 * build's process names */
static void test_power_steps_and_processes(void **state)
{
    (void)state;
    const char *path = FIXTURE("matrix/power.xml");
    lg_diags diags = { 0 };
    lg_matrix *m = load_valid(path, &diags);
    const lg_build *b = &m->builds[0];
    assert_int_equal(b->n_processes, 3);
    assert_string_equal(b->processes[0], "sampled");
    assert_string_equal(b->processes[1], "agent.worker");
    assert_string_equal(b->processes[2], "x_y-z+1");
    assert_int_equal(m->builds[1].n_processes, 0);
    assert_null(m->builds[1].processes);

    const lg_scenario *sc = &m->scenarios[0];
    static const struct {
        lg_step_kind kind;
        const char *name;
        int count, timeout_s, cut_ms;
        const char *line_needle;
    } want[] = {
        { LG_STEP_INSTALL, "install", 1, 0, 0, "<install/>" },
        { LG_STEP_APPLY_CONTENT, "apply-content", 1, 0, 4000, "cut-power-within-ms=\"4000\"" },
        { LG_STEP_CONTENT_RELOAD, "content-reload", 7, 0, 0, "<content-reload count=\"7\"/>" },
        { LG_STEP_CONTENT_RELOAD, "content-reload", 1, 0, 0, "<content-reload/>" },
        { LG_STEP_POWER_CYCLE, "power-cycle", 1, 0, 0, "<power-cycle/>" },
        { LG_STEP_COLD_BOOT, "cold-boot", 1, 90, 0, "<cold-boot" },
        { LG_STEP_APPLY_CONTENT, "apply-content", 1, 0, 0, "<apply-content/>" },
    };
    assert_int_equal(sc->n_steps, LG_N_ELEMENTS(want));
    for (size_t i = 0; i < LG_N_ELEMENTS(want); i++) {
        const lg_step *st = &sc->steps[i];
        assert_int_equal(st->kind, want[i].kind);
        assert_string_equal(lg_step_kind_name(st->kind), want[i].name);
        assert_int_equal(st->count, want[i].count);
        assert_int_equal(st->timeout_s, want[i].timeout_s);
        assert_int_equal(st->cut_power_within_ms, want[i].cut_ms);
        assert_int_equal(st->line, line_containing(path, want[i].line_needle));
    }
    lg_matrix_free(m);
    lg_diags_clear(&diags);
}

static void test_bad_process_names(void **state)
{
    (void)state;
    const char *path = INVALID("bad-processes.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    int line = line_containing(path, "<build id=\"agent-1.0\"");
    expect_error(&diags, path, line, "'a-process-name-too-long' is not a process name");
    expect_error(&diags, path, line, "'bin/sh' is not a process name");
    expect_error_count(&diags, 2);
    lg_diags_clear(&diags);
}

static void test_schema_cut_power_zero(void **state)
{
    (void)state;
    const char *path = INVALID("bad-cut-power.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_first_error(&diags, path, line_containing(path, "cut-power-within-ms"), "cut-power-within-ms");
    lg_diags_clear(&diags);
}

static void test_minimal_matrix_defaults(void **state)
{
    (void)state;
    lg_diags diags = { 0 };
    lg_matrix *m = load_valid(FIXTURE("matrix/minimal.xml"), &diags);

    /* no name attribute: the file name without its extension */
    assert_string_equal(m->name, "minimal");
    assert_int_equal(m->n_excludes, 0);
    assert_int_equal(m->policy.boot_timeout_s, 180);
    assert_int_equal(m->policy.step_timeout_s, 300);
    assert_int_equal(m->policy.heartbeat_interval_s, 5);
    assert_int_equal(m->policy.heartbeat_misses, 4);
    assert_int_equal(m->policy.crash_grace_s, 5);
    assert_int_equal(m->policy.tcg_scale, 4);
    assert_int_equal(m->policy.accel, LG_ACCEL_AUTO);
    assert_false(m->policy.strict);
    assert_true(m->policy.seed == 0);
    assert_int_equal(m->policy.fetch_max_mib, 1024);
    assert_int_equal(m->policy.baseline_retries, 1);
    assert_int_equal(m->policy.infra_retries, 1);      /* once, elsewhere */
    assert_int_equal(m->policy.host_drain_after, 2);   /* two INFRA_ERRORs in a row */
    assert_false(m->policy.warnings_report);
    assert_false(m->policy.baseline_first); /* no baseline boot unless asked */
    assert_true(m->builds[0].candidate);
    assert_string_equal(m->builds[0].install, "sh ./install.sh");
    assert_string_equal(m->builds[0].content_hook, "sh ./apply-content.sh");

    lg_matrix_free(m);
    lg_diags_clear(&diags);
}

/* A path relative to the working directory: everything stored is absolute. */
static void test_relative_path_resolves_to_absolute(void **state)
{
    (void)state;
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(FIXTURE("matrix/profiles")), 0);
    lg_diags diags = { 0 };
    lg_matrix *m = NULL;
    int rc = lg_matrix_load("../valid.xml", &m, &diags);
    assert_int_equal(chdir(cwd), 0);
    if (rc != 0)
        dump_diags(&diags);
    assert_int_equal(rc, 0);

    char *file = real_path(FIXTURE("matrix/valid.xml"));
    char *builds = real_path(FIXTURE("matrix/builds/agent-1.0"));
    char *content = real_path(FIXTURE("matrix/content/good"));
    char *profile = real_path(PROFILE("linux-x86_64.xml"));
    assert_string_equal(m->path, file);
    assert_string_equal(m->builds[0].dir, builds);
    assert_string_equal(m->contents[0].dir, content);
    assert_string_equal(m->guests[0].profile->path, profile);
    assert_true(m->guests[0].profile->disk[0] == '/');
    assert_true(m->guests[0].profile->ssh_key[0] == '/');
    /* the profiles' warnings name the resolved profile files */
    assert_true(diags.n > 0);
    for (size_t i = 0; i < diags.n; i++)
        assert_true(diags.items[i].file[0] == '/');

    lg_matrix_free(m);
    lg_diags_clear(&diags);
    free(file);
    free(builds);
    free(content);
    free(profile);
}

/* ----------------------------------------------------------------- profile */

static void test_profile_values_and_warnings(void **state)
{
    (void)state;
    const char *path = PROFILE("linux-x86_64.xml");
    lg_diags diags = { 0 };
    lg_profile *p = NULL;
    assert_int_equal(lg_profile_load(path, &p, &diags), 0);
    assert_non_null(p);
    expect_error_count(&diags, 0);
    assert_int_equal(diags.n, 5);

    char *dir = real_path(FIXTURE("matrix/profiles"));
    char *file = real_path(path);
    assert_string_equal(p->id, "fixture-x86_64");
    assert_string_equal(p->path, file);
    assert_string_equal(lg_os_name(p->os), "linux");
    assert_string_equal(lg_arch_name(p->arch), "x86_64");
    assert_string_equal(p->machine, "q35");
    assert_int_equal(p->memory_mib, 768);
    assert_int_equal(p->vcpus, 2);
    char *expect = joined(dir, "../images/never-built/rootfs.qcow2");
    assert_string_equal(p->disk, expect);
    free(expect);
    expect = joined(dir, "../images/never-built/vmlinuz");
    assert_string_equal(p->kernel, expect);
    free(expect);
    expect = joined(dir, "../images/never-built/initrd.img");
    assert_string_equal(p->initrd, expect);
    free(expect);
    expect = joined(dir, "../images/never-built/id_ecdsa");
    assert_string_equal(p->ssh_key, expect);
    free(expect);
    expect = joined(dir, "../images/never-built/host_key.pub");
    assert_string_equal(p->ssh_host_key, expect);
    free(expect);
    assert_string_equal(p->cmdline, "console=ttyS0 root=/dev/vda rw");
    assert_string_equal(p->ssh_user, "tester");
    assert_int_equal(p->ssh_port, 2222);
    assert_string_equal(p->boot_count_command, "cat /var/lib/labgate/boot-count");
    assert_string_equal(lg_panic_model_name(p->panic_model), "none");

    /* a profile loaded on its own: diagnostics name the file as given */
    int boot_line = line_containing(path, "<boot disk=");
    assert_non_null(find_diag(&diags, true, path, boot_line, "rootfs.qcow2 does not exist yet"));
    assert_non_null(find_diag(&diags, true, path, boot_line, "vmlinuz does not exist yet"));
    assert_non_null(find_diag(&diags, true, path, boot_line, "initrd.img does not exist yet"));
    assert_non_null(find_diag(&diags, true, path, line_containing(path, "<transport"), "id_ecdsa"));
    assert_non_null(find_diag(&diags, true, path, line_containing(path, "<transport"), "ssh host key"));

    lg_profile_free(p);
    lg_diags_clear(&diags);
    free(dir);
    free(file);
}

static void test_profile_defaults(void **state)
{
    (void)state;
    lg_diags diags = { 0 };
    lg_profile *p = NULL;
    assert_int_equal(lg_profile_load(PROFILE("linux-aarch64.xml"), &p, &diags), 0);
    expect_error_count(&diags, 0);
    assert_string_equal(lg_arch_name(p->arch), "aarch64");
    assert_string_equal(p->machine, "virt");
    assert_int_equal(p->memory_mib, 512);
    assert_int_equal(p->vcpus, 1);
    assert_null(p->kernel);
    assert_null(p->initrd);
    assert_string_equal(p->cmdline, "");
    assert_string_equal(p->ssh_user, "root");
    assert_int_equal(p->ssh_port, 22);
    /* the panic device that exists on the arch */
    assert_string_equal(lg_panic_model_name(p->panic_model), "pvpanic-pci");
    assert_string_equal(lg_transport_kind_name(p->transport), "ssh");
    assert_null(p->cpu_model);
    assert_null(p->watchdog_model);
    lg_profile_free(p);
    lg_diags_clear(&diags);
}

/* A copy of the x86-64 profile with `extra` before </profile>, in /tmp. */
static char *profile_with(const char *extra, const char *transport_sed)
{
    char path[] = "/tmp/lg-netprofile-XXXXXX.xml";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    LG_AUTOFREE char *cmd = lg_strdup_printf(
        "sed 's|</profile>|%s</profile>|; %s; s|\"\\.\\./linux/out|\"%s/guests/linux/out|g' %s/guests/profiles/linux-x86_64.xml >%s",
        extra, transport_sed, LG_SOURCE_DIR, LG_SOURCE_DIR, path);
    close(fd);
    assert_int_equal(system(cmd), 0);
    return lg_strdup(path);
}

/* <network>: the probes are on by default; off only with a reason; a port
 * of its own only under qemu-ga. */
static void test_profile_network(void **state)
{
    (void)state;
    lg_diags diags = { 0 };
    lg_profile *p = NULL;
    LG_AUTOFREE char *plain = profile_with("", "s|x|x|");
    assert_int_equal(lg_profile_load(plain, &p, &diags), 0);
    assert_true(p->net_probe);
    assert_int_equal(p->net_probe_port, 22);
    assert_null(p->net_probe_reason);
    lg_profile_free(p);
    unlink(plain);

    LG_AUTOFREE char *off = profile_with("<network probe=\"none\" reason=\"air-gapped\"/>", "s|x|x|");
    assert_int_equal(lg_profile_load(off, &p, &diags), 0);
    assert_false(p->net_probe);
    assert_string_equal(p->net_probe_reason, "air-gapped");
    lg_profile_free(p);
    unlink(off);
    expect_error_count(&diags, 0);

    LG_AUTOFREE char *no_reason = profile_with("<network probe=\"none\"/>", "s|x|x|");
    p = NULL;
    assert_int_equal(lg_profile_load(no_reason, &p, &diags), -EINVAL);
    assert_null(p);
    expect_error(&diags, no_reason, line_containing(no_reason, "<network"), "needs a reason");
    expect_error_count(&diags, 1);
    lg_diags_clear(&diags);
    unlink(no_reason);

    LG_AUTOFREE char *ssh_port = profile_with("<network port=\"80\"/>", "s|x|x|");
    assert_int_equal(lg_profile_load(ssh_port, &p, &diags), -EINVAL);
    expect_error(&diags, ssh_port, line_containing(ssh_port, "<network"), "only with transport qemu-ga");
    lg_diags_clear(&diags);
    unlink(ssh_port);

    LG_AUTOFREE char *qga_port =
        profile_with("<network port=\"80\"/>", "s|<transport type=\"ssh\"[^>]*/>|<transport type=\"qemu-ga\"/>|");
    assert_int_equal(lg_profile_load(qga_port, &p, &diags), 0);
    assert_int_equal(p->net_probe_port, 80);
    lg_profile_free(p);
    unlink(qga_port);
    lg_diags_clear(&diags);
}

/* <leak-scan>: the command run at the end of every job, with a timeout of
 * its own (120 s unless given); none without one. */
static void test_profile_leak_scan(void **state)
{
    (void)state;
    lg_diags diags = { 0 };
    lg_profile *p = NULL;
    LG_AUTOFREE char *plain = profile_with("", "s|x|x|");
    assert_int_equal(lg_profile_load(plain, &p, &diags), 0);
    assert_null(p->leak_scan_command);
    lg_profile_free(p);
    unlink(plain);

    LG_AUTOFREE char *scan = profile_with("<leak-scan command=\"/usr/sbin/labgate-kmemleak-scan\"/>", "s|x|x|");
    assert_int_equal(lg_profile_load(scan, &p, &diags), 0);
    assert_string_equal(p->leak_scan_command, "/usr/sbin/labgate-kmemleak-scan");
    assert_int_equal(p->leak_scan_timeout_s, 120);
    lg_profile_free(p);
    unlink(scan);

    LG_AUTOFREE char *timed = profile_with("<leak-scan command=\"scan\" timeout-s=\"30\"/>", "s|x|x|");
    assert_int_equal(lg_profile_load(timed, &p, &diags), 0);
    assert_int_equal(p->leak_scan_timeout_s, 30);
    lg_profile_free(p);
    unlink(timed);
    expect_error_count(&diags, 0);

    LG_AUTOFREE char *no_command = profile_with("<leak-scan timeout-s=\"30\"/>", "s|x|x|");
    p = NULL;
    assert_int_equal(lg_profile_load(no_command, &p, &diags), -EINVAL);
    assert_null(p);
    expect_error(&diags, no_command, line_containing(no_command, "<leak-scan"), "command");
    lg_diags_clear(&diags);
    unlink(no_command);
}

/* The matrix collects the problems of several files in one list: a profile
 * must not be rejected for errors that belong to another file. */
static void test_profile_load_ignores_earlier_errors(void **state)
{
    (void)state;
    lg_diags diags = { 0 };
    lg_diags_add(&diags, "other.xml", 3, false, "a problem in another file");
    lg_profile *p = NULL;
    int rc = lg_profile_load(PROFILE("linux-aarch64.xml"), &p, &diags);
    if (rc != 0)
        dump_diags(&diags);
    assert_int_equal(rc, 0);
    assert_non_null(p);
    assert_int_equal(lg_diags_errors(&diags), 1);
    lg_profile_free(p);
    lg_diags_clear(&diags);
}

static void test_profile_isa_panic_on_aarch64(void **state)
{
    (void)state;
    const char *path = PROFILE("aarch64-isa-panic.xml");
    lg_diags diags = { 0 };
    lg_profile *p = NULL;
    assert_int_equal(lg_profile_load(path, &p, &diags), -EINVAL);
    assert_null(p);
    expect_error(&diags, path, line_containing(path, "<panic model="), "x86 only");
    expect_error_count(&diags, 1);
    lg_diags_clear(&diags);
}

static void test_profile_initrd_without_kernel(void **state)
{
    (void)state;
    const char *path = PROFILE("initrd-without-kernel.xml");
    lg_diags diags = { 0 };
    lg_profile sentinel;
    lg_profile *p = &sentinel;
    assert_int_equal(lg_profile_load(path, &p, &diags), -EINVAL);
    assert_ptr_equal(p, &sentinel);
    expect_error(&diags, path, line_containing(path, "<boot disk="), "initrd but no kernel");
    expect_error_count(&diags, 1);
    lg_diags_clear(&diags);
}

static void test_profile_rejects_matrix_file(void **state)
{
    (void)state;
    const char *path = FIXTURE("matrix/minimal.xml");
    lg_diags diags = { 0 };
    lg_profile *p = NULL;
    assert_int_equal(lg_profile_load(path, &p, &diags), -EINVAL);
    assert_null(p);
    expect_first_error(&diags, path, line_containing(path, "<matrix>"),
                       "expected a <profile> document, found <matrix>");
    lg_diags_clear(&diags);
}

/* ----------------------------------------------------------- invalid input */

static void test_malformed_xml(void **state)
{
    (void)state;
    const char *path = INVALID("malformed.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    /* the parser notices at </matrix> that <guests> (opened on its line) was never closed */
    char opened[64];
    snprintf(opened, sizeof(opened), "guests line %d", line_containing(path, "  <guests>"));
    expect_first_error(&diags, path, line_containing(path, "</matrix>"), "tag mismatch");
    expect_error(&diags, path, line_containing(path, "</matrix>"), opened);
    lg_diags_clear(&diags);
}

static void test_schema_unknown_element(void **state)
{
    (void)state;
    const char *path = INVALID("unknown-element.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_first_error(&diags, path, line_containing(path, "<frobnicate"), "frobnicate");
    lg_diags_clear(&diags);
}

static void test_schema_missing_required_attribute(void **state)
{
    (void)state;
    const char *path = INVALID("missing-attribute.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    /* libxml2 reports this one without a node; the harness still places it */
    expect_first_error(&diags, path, line_containing(path, "<host id=\"local\""),
                       "Element host failed to validate attributes");
    lg_diags_clear(&diags);
}

static void test_schema_bad_id(void **state)
{
    (void)state;
    const char *path = INVALID("bad-id.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_first_error(&diags, path, line_containing(path, "id=\"linux x86_64\""), "Element guest");
    lg_diags_clear(&diags);
}

static void test_schema_non_numeric_slots(void **state)
{
    (void)state;
    const char *path = INVALID("bad-slots.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_first_error(&diags, path, line_containing(path, "slots=\"two\""), "Invalid attribute slots");
    lg_diags_clear(&diags);
}

static void test_schema_relative_pool_dir(void **state)
{
    (void)state;
    const char *path = INVALID("bad-pool-dir.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_first_error(&diags, path, line_containing(path, "pool-dir=\"images/labgate\""),
                       "Invalid attribute pool-dir");
    lg_diags_clear(&diags);
}

static void test_schema_bad_accel(void **state)
{
    (void)state;
    const char *path = INVALID("bad-accel.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    int line = line_containing(path, "accel=\"hvf\"");
    expect_first_error(&diags, path, line, "Invalid attribute accel");
    /* libxml2's follow-up errors land on the same line, none without one */
    for (size_t i = 0; i < diags.n; i++)
        assert_int_equal(diags.items[i].line, line);
    lg_diags_clear(&diags);
}

/* baseline= takes none or first */
static void test_schema_bad_baseline(void **state)
{
    (void)state;
    const char *path = INVALID("bad-baseline.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_first_error(&diags, path, line_containing(path, "baseline=\"always\""), "Invalid attribute baseline");
    lg_diags_clear(&diags);
}

/* warnings="report" under strict: a strict guest panics on every WARNING */
static void test_strict_warnings_report(void **state)
{
    (void)state;
    const char *path = INVALID("strict-warnings-report.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_error(&diags, path, line_containing(path, "<policy"), "contradicts strict=\"true\"");
    expect_error_count(&diags, 1);
    lg_diags_clear(&diags);
}

/* hardening="slub": parsed; a value no kernel here supports is refused by
 * the schema, on its line */
static void test_hardening(void **state)
{
    (void)state;
    lg_diags diags = { 0 };
    lg_matrix *m = load_valid(FIXTURE("matrix/hardening.xml"), &diags);
    assert_int_equal(m->policy.hardening, LG_HARDENING_SLUB);
    assert_int_equal(m->policy.driver_verifier, LG_VERIFIER_NONE);
    assert_non_null(strstr(lg_hardening_info_of(m->policy.hardening)->linux_cmdline, "slub_debug=FZPU"));
    lg_matrix_free(m);
    lg_diags_clear(&diags);

    m = load_valid(FIXTURE("matrix/minimal.xml"), &diags);
    assert_int_equal(m->policy.hardening, LG_HARDENING_NONE);
    assert_string_equal(lg_hardening_info_of(m->policy.hardening)->linux_cmdline, "");
    lg_matrix_free(m);
    lg_diags_clear(&diags);

    const char *path = INVALID("bad-hardening.xml");
    load_invalid(path, &diags);
    expect_first_error(&diags, path, line_containing(path, "hardening=\"kasan\""), "Invalid attribute hardening");
    lg_diags_clear(&diags);
}

/* Each OS's policy asked of a guest of the other OS: refused, naming the
 * guest on its line and the policy. */
static void test_guest_policies_wrong_os(void **state)
{
    (void)state;
    const char *path = INVALID("guest-policies-wrong-os.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_error(&diags, path, line_containing(path, "<guest id=\"windows-x86_64\""),
                 "guest 'windows-x86_64' runs windows: <policy> hardening=\"slub\" is for Linux guests");
    expect_error(&diags, path, line_containing(path, "<guest id=\"linux-x86_64\""),
                 "guest 'linux-x86_64' runs linux: <policy> driver-verifier=\"special-pool\" is Windows'");
    expect_error_count(&diags, 2);
    lg_diags_clear(&diags);
}

/* driver-verifier on a Windows guest: the build's drivers=, as given */
static void test_driver_verifier(void **state)
{
    (void)state;
    lg_diags diags = { 0 };
    lg_matrix *m = load_valid(FIXTURE("matrix/driver-verifier.xml"), &diags);
    assert_int_equal(m->policy.driver_verifier, LG_VERIFIER_SPECIAL_POOL);
    assert_int_equal(m->builds[0].n_drivers, 2);
    assert_string_equal(m->builds[0].drivers[0], "SampleDrv.sys");
    assert_string_equal(m->builds[0].drivers[1], "netfilter.sys");
    lg_matrix_free(m);
    lg_diags_clear(&diags);

    /* a build without drivers has nothing to verify; a path is no driver's name */
    const char *path = INVALID("verifier-without-drivers.xml");
    load_invalid(path, &diags);
    expect_error(&diags, path, line_containing(path, "<build id=\"agent-1.0\""),
                 "build 'agent-1.0' names no drivers (drivers=\"NAME.sys ...\"): <policy> driver-verifier=\"standard\"");
    expect_error(&diags, path, line_containing(path, "<build id=\"agent-2.0\""),
                 "build 'agent-2.0': drivers: 'C:\\drivers\\x.sys' is not a driver's file name");
    lg_diags_clear(&diags);
}

static void test_schema_fetch_max_zero(void **state)
{
    (void)state;
    const char *path = INVALID("bad-fetch-max.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_first_error(&diags, path, line_containing(path, "fetch-max-mib=\"0\""), "Invalid attribute fetch-max-mib");
    lg_diags_clear(&diags);
}

/* host-drain-after="0" would drain a host before anything failed there:
 * refused by the schema, with its line. */
static void test_schema_drain_policy(void **state)
{
    (void)state;
    const char *path = INVALID("bad-drain.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_first_error(&diags, path, line_containing(path, "host-drain-after=\"0\""),
                       "Invalid attribute host-drain-after");
    lg_diags_clear(&diags);
}

/* A build whose jobs would refuse to upload it (a link out of the tree):
 * said when the matrix is loaded, as a warning naming the link. */
static void test_build_with_outside_link_warned(void **state)
{
    (void)state;
    char dir[] = "/tmp/lg-matrix-XXXXXX";
    assert_non_null(mkdtemp(dir));
    LG_AUTOFREE char *cmd = lg_strdup_printf(
        "cp -r '%s' '%s/m' && ln -s /etc/shadow '%s/m/builds/agent-1.0/shadow'", FIXTURE("matrix"), dir, dir);
    assert_int_equal(system(cmd), 0);
    LG_AUTOFREE char *path = lg_strdup_printf("%s/m/minimal.xml", dir);
    lg_diags diags = { 0 };
    lg_matrix *m = load_valid(path, &diags);
    bool found = false;
    for (size_t i = 0; i < diags.n; i++)
        found = found || (diags.items[i].warning && diags.items[i].line == line_containing(path, "<build id") &&
                          strstr(diags.items[i].message, "build 'agent-1.0': its jobs will refuse to upload it: "
                                                         "link shadow points outside the tree (/etc/shadow)"));
    if (!found)
        dump_diags(&diags);
    assert_true(found);
    lg_matrix_free(m);
    lg_diags_clear(&diags);
    LG_AUTOFREE char *rm = lg_strdup_printf("rm -rf '%s'", dir);
    assert_int_equal(system(rm), 0);
}

static void test_schema_empty_scenario(void **state)
{
    (void)state;
    const char *path = INVALID("empty-scenario.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    int line = line_containing(path, "<scenario id=\"nothing\">");
    expect_first_error(&diags, path, line, "got nothing");
    expect_error(&diags, path, line, "Element scenario");
    lg_diags_clear(&diags);
}

static void test_several_schema_errors_all_reported(void **state)
{
    (void)state;
    const char *path = INVALID("several-schema-errors.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_error(&diags, path, line_containing(path, "slots=\"two\""), "Invalid attribute slots");
    expect_error(&diags, path, line_containing(path, "accel=\"hvf\""), "Invalid attribute accel");
    lg_diags_clear(&diags);
}

static void test_exclude_unknown_id(void **state)
{
    (void)state;
    const char *path = INVALID("exclude-unknown.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_first_error(&diags, path, line_containing(path, "<exclude"), "unknown guest 'windows-11'");
    expect_error_count(&diags, 1); /* content="good" exists */
    lg_diags_clear(&diags);
}

static void test_exclude_naming_nothing(void **state)
{
    (void)state;
    const char *path = INVALID("exclude-nothing.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_first_error(&diags, path, line_containing(path, "<exclude/>"), "names nothing");
    expect_error_count(&diags, 1);
    lg_diags_clear(&diags);
}

static void test_duplicate_id_reported_on_second(void **state)
{
    (void)state;
    const char *path = INVALID("duplicate-id.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    int first = line_containing(path, "dir=\"../builds/agent-1.0\"");
    int second = line_containing(path, "dir=\"../builds/agent-2.0\"");
    char first_on[64];
    snprintf(first_on, sizeof(first_on), "first defined on line %d", first);
    expect_first_error(&diags, path, second, "duplicate build id 'agent-1.0'");
    expect_error(&diags, path, second, first_on);
    expect_error_count(&diags, 1);
    lg_diags_clear(&diags);
}

static void test_missing_build_dir(void **state)
{
    (void)state;
    const char *path = INVALID("missing-build-dir.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    int line = line_containing(path, "<build id=\"agent-9.9\"");
    expect_first_error(&diags, path, line, "build 'agent-9.9': directory");
    expect_error(&diags, path, line, "builds/agent-9.9 not found");
    expect_error_count(&diags, 1);
    lg_diags_clear(&diags);
}

static void test_missing_content_dir(void **state)
{
    (void)state;
    const char *path = INVALID("missing-content-dir.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    int line = line_containing(path, "<content id=\"lost\"");
    expect_first_error(&diags, path, line, "content 'lost': directory");
    expect_error(&diags, path, line, "content/lost not found");
    expect_error_count(&diags, 1);
    lg_diags_clear(&diags);
}

static void test_missing_profile_file(void **state)
{
    (void)state;
    const char *path = INVALID("missing-profile.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    int line = line_containing(path, "<guest id=\"windows-11\"");
    expect_first_error(&diags, path, line, "guest 'windows-11': profile file");
    expect_error(&diags, path, line, "profiles/windows-11.xml not found");
    expect_error_count(&diags, 1);
    lg_diags_clear(&diags);
}

static void test_build_without_install_script(void **state)
{
    (void)state;
    const char *path = INVALID("no-install-script.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    int line = line_containing(path, "<build id=\"agent-broken\"");
    expect_first_error(&diags, path, line, "build 'agent-broken': install.sh not found");
    expect_error(&diags, path, line, "install attribute");
    expect_error_count(&diags, 1); /* apply-content.sh is there */
    lg_diags_clear(&diags);
}

static void test_invalid_profile_named_in_diagnostic(void **state)
{
    (void)state;
    const char *path = INVALID("invalid-profile.xml");
    const char *profile_path = PROFILE("too-little-memory.xml");
    char *profile = real_path(profile_path);
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    /* the problem is in the profile: its file and line, not the matrix's */
    expect_first_error(&diags, profile, line_containing(profile_path, "<memory-mib>"), "memory-mib");
    for (size_t i = 0; i < diags.n; i++)
        if (!diags.items[i].warning)
            assert_string_equal(diags.items[i].file, profile);
    lg_diags_clear(&diags);
    free(profile);
}

static void test_root_is_not_matrix(void **state)
{
    (void)state;
    const char *path = INVALID("wrong-root.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_first_error(&diags, path, line_containing(path, "<domain"),
                       "expected a <matrix> document, found <domain>");
    expect_error_count(&diags, 1);
    lg_diags_clear(&diags);
}

static void test_profile_given_as_matrix(void **state)
{
    (void)state;
    const char *path = PROFILE("linux-x86_64.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_first_error(&diags, path, line_containing(path, "<profile id="),
                       "expected a <matrix> document, found <profile>");
    lg_diags_clear(&diags);
}

static void test_file_does_not_exist(void **state)
{
    (void)state;
    const char *path = FIXTURE("matrix/no-such-matrix.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_first_error(&diags, path, 0, "cannot read file");
    expect_error(&diags, path, 0, "No such file");
    expect_error_count(&diags, 1);
    lg_diags_clear(&diags);
}

static void test_several_errors_all_reported(void **state)
{
    (void)state;
    const char *path = INVALID("several-errors.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_error(&diags, path, line_containing(path, "<build id=\"agent-9.9\""), "build 'agent-9.9'");
    expect_error(&diags, path, line_containing(path, "<content id=\"lost\""), "content 'lost'");
    expect_error(&diags, path, line_containing(path, "<exclude"), "unknown scenario 'stress'");
    int first = line_containing(path, "<scenario id=\"boot\">");
    int second = line_containing(path, "<scenario id=\"boot\"><!-- again -->");
    char text[96];
    snprintf(text, sizeof(text), "duplicate scenario id 'boot' (first defined on line %d)", first);
    expect_error(&diags, path, second, text);
    expect_error_count(&diags, 4);
    lg_diags_clear(&diags);
}

/* ------------------------------------------------------------------ names */

static void test_accel_names(void **state)
{
    (void)state;
    static const struct { lg_accel accel; const char *name; } all[] = {
        { LG_ACCEL_AUTO, "auto" }, { LG_ACCEL_KVM, "kvm" }, { LG_ACCEL_TCG, "tcg" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(all); i++) {
        lg_accel parsed = (lg_accel)-1;
        assert_string_equal(lg_accel_name(all[i].accel), all[i].name);
        assert_int_equal(lg_accel_parse(all[i].name, &parsed), 0);
        assert_int_equal(parsed, all[i].accel);
    }
    lg_accel untouched = LG_ACCEL_KVM;
    assert_int_equal(lg_accel_parse("hvf", &untouched), -EINVAL);
    assert_int_equal(lg_accel_parse("KVM", &untouched), -EINVAL);
    assert_int_equal(lg_accel_parse("", &untouched), -EINVAL);
    assert_int_equal(untouched, LG_ACCEL_KVM);
}

/* A DTD is where entity expansion and external entities live, and labgate's
 * formats need none: refused at the DOCTYPE, as the only error. */
static void test_doctype_refused_in_matrix(void **state)
{
    (void)state;
    const char *path = INVALID("doctype-entity.xml");
    lg_diags diags = { 0 };
    load_invalid(path, &diags);
    expect_first_error(&diags, path, line_containing(path, "<!DOCTYPE"),
                       "DOCTYPE/entity declarations are not accepted");
    expect_error_count(&diags, 1);
    lg_diags_clear(&diags);
}

static void test_doctype_refused_in_profile(void **state)
{
    (void)state;
    const char *path = INVALID("doctype-profile.xml");
    lg_diags diags = { 0 };
    lg_profile *p = NULL;
    assert_int_equal(lg_profile_load(path, &p, &diags), -EINVAL);
    assert_null(p);
    expect_first_error(&diags, path, line_containing(path, "<!DOCTYPE"),
                       "DOCTYPE/entity declarations are not accepted");
    expect_error_count(&diags, 1);
    lg_diags_clear(&diags);
}

/* <stress>: every kind, seconds and workers as written (0: the kind's). */
static void test_stress_steps(void **state)
{
    (void)state;
    lg_diags diags = { 0 };
    lg_matrix *m = load_valid(FIXTURE("matrix/stress.xml"), &diags);
    const lg_scenario *sc = &m->scenarios[0];
    static const struct { const char *kind; int seconds, workers; } want[] = {
        { "process", 30, 0 }, { "file", 5, 3 }, { "network", 5, 0 },
        { "memory", 5, 0 }, { "cpu", 3600, 256 }, { "io", 1, 0 },
    };
    assert_int_equal(sc->n_steps, 1 + LG_N_ELEMENTS(want));
    for (size_t i = 0; i < LG_N_ELEMENTS(want); i++) {
        const lg_step *st = &sc->steps[i + 1];
        assert_int_equal(st->kind, LG_STEP_STRESS);
        assert_string_equal(lg_step_kind_name(st->kind), "stress");
        assert_string_equal(lg_stress_kind_name(st->stress_kind), want[i].kind);
        assert_int_equal(st->stress_seconds, want[i].seconds);
        assert_int_equal(st->stress_workers, want[i].workers);
        assert_int_equal(st->line, line_containing(FIXTURE("matrix/stress.xml"), "<stress kind=\"") + (int)i);
    }
    lg_matrix_free(m);
    lg_diags_clear(&diags);
}

/* A wrong kind, seconds or workers: an error at the step's line that names
 * the value and what is allowed (libxml2's own message says only that the
 * attributes failed). */
static void test_stress_bad_values(void **state)
{
    (void)state;
    static const struct { const char *file; const char *message; } cases[] = {
        { "bad-stress-kind.xml", "<stress> kind 'disk' is unknown (process, file, network, memory, cpu or io)" },
        { "bad-stress-seconds.xml", "<stress> seconds '0' is not a whole number from 1 to 3600" },
        { "bad-stress-workers.xml", "<stress> workers '0' is not a whole number from 1 to 256" },
        { "missing-stress-seconds.xml", "<stress> needs seconds=\"N\" (1 to 3600)" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(cases); i++) {
        LG_AUTOFREE char *path = lg_strdup_printf("%s", INVALID("") );
        LG_AUTOFREE char *file = lg_strdup_printf("%s%s", path, cases[i].file);
        lg_diags diags = { 0 };
        load_invalid(file, &diags);
        int line = line_containing(file, "<stress ");
        expect_error(&diags, file, line, cases[i].message);
        /* every error on that line */
        for (size_t j = 0; j < diags.n; j++)
            assert_int_equal(diags.items[j].line, line);
        lg_diags_clear(&diags);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_matrix_loads_with_only_image_warnings),
        cmocka_unit_test(test_valid_matrix_values),
        cmocka_unit_test(test_valid_matrix_steps),
        cmocka_unit_test(test_stress_steps),
        cmocka_unit_test(test_stress_bad_values),
        cmocka_unit_test(test_minimal_matrix_defaults),
        cmocka_unit_test(test_schema_drain_policy),
        cmocka_unit_test(test_schema_fetch_max_zero),
        cmocka_unit_test(test_strict_warnings_report),
        cmocka_unit_test(test_hardening),
        cmocka_unit_test(test_guest_policies_wrong_os),
        cmocka_unit_test(test_driver_verifier),
        cmocka_unit_test(test_schema_bad_baseline),
        cmocka_unit_test(test_build_with_outside_link_warned),
        cmocka_unit_test(test_relative_path_resolves_to_absolute),
        cmocka_unit_test(test_profile_values_and_warnings),
        cmocka_unit_test(test_profile_defaults),
        cmocka_unit_test(test_profile_network),
        cmocka_unit_test(test_profile_leak_scan),
        cmocka_unit_test(test_profile_load_ignores_earlier_errors),
        cmocka_unit_test(test_profile_initrd_without_kernel),
        cmocka_unit_test(test_profile_isa_panic_on_aarch64),
        cmocka_unit_test(test_profile_rejects_matrix_file),
        cmocka_unit_test(test_malformed_xml),
        cmocka_unit_test(test_doctype_refused_in_matrix),
        cmocka_unit_test(test_doctype_refused_in_profile),
        cmocka_unit_test(test_schema_unknown_element),
        cmocka_unit_test(test_schema_missing_required_attribute),
        cmocka_unit_test(test_schema_bad_id),
        cmocka_unit_test(test_power_steps_and_processes),
        cmocka_unit_test(test_bad_process_names),
        cmocka_unit_test(test_schema_cut_power_zero),
        cmocka_unit_test(test_schema_non_numeric_slots),
        cmocka_unit_test(test_schema_relative_pool_dir),
        cmocka_unit_test(test_schema_bad_accel),
        cmocka_unit_test(test_schema_empty_scenario),
        cmocka_unit_test(test_several_schema_errors_all_reported),
        cmocka_unit_test(test_exclude_unknown_id),
        cmocka_unit_test(test_exclude_naming_nothing),
        cmocka_unit_test(test_duplicate_id_reported_on_second),
        cmocka_unit_test(test_missing_build_dir),
        cmocka_unit_test(test_missing_content_dir),
        cmocka_unit_test(test_missing_profile_file),
        cmocka_unit_test(test_build_without_install_script),
        cmocka_unit_test(test_invalid_profile_named_in_diagnostic),
        cmocka_unit_test(test_root_is_not_matrix),
        cmocka_unit_test(test_profile_given_as_matrix),
        cmocka_unit_test(test_file_does_not_exist),
        cmocka_unit_test(test_several_errors_all_reported),
        cmocka_unit_test(test_accel_names),
    };
    return cmocka_run_group_tests_name("matrix", tests, NULL, NULL);
}
