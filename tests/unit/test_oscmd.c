/* Per-OS command sets: the Linux commands the jobs run, and the Windows
 * command set, as strings and parsers (no Windows guest exists here). */
#include <errno.h>

#include "lg_test.h"

#include "base/json.h"
#include "guest/oscmd.h"

/* The script a -EncodedCommand line carries, back to UTF-8 (ASCII only). */
static char *decode_ps(const char *command)
{
    const char *b64 = strstr(command, "-EncodedCommand ");
    assert_non_null(b64);
    unsigned char *wide = NULL;
    size_t len = 0;
    assert_int_equal(lg_base64_decode(b64 + strlen("-EncodedCommand "), &wide, &len), 0);
    assert_int_equal(len % 2, 0);
    char *s = calloc(len / 2 + 1, 1);
    for (size_t i = 0; i < len / 2; i++) {
        assert_int_equal(wide[2 * i + 1], 0); /* UTF-16LE of ASCII */
        s[i] = (char)wide[2 * i];
    }
    free(wide);
    return s;
}

static void test_linux_commands(void **state)
{
    (void)state;
    lg_os os = LG_OS_MAX;
    assert_int_equal(lg_os_parse("linux", &os), 0);
    assert_int_equal(os, LG_OS_LINUX);
    assert_int_equal(lg_os_parse("windows", &os), 0);
    assert_int_equal(os, LG_OS_WINDOWS);
    assert_string_equal(lg_os_build_dir(LG_OS_LINUX), "/opt/labgate/build");
    LG_AUTOFREE char *in = lg_os_in_dir(LG_OS_LINUX, "/opt/labgate/build", "sh install.sh");
    assert_string_equal(in, "cd '/opt/labgate/build' && sh install.sh");
    LG_AUTOFREE char *md = lg_os_mkdir(LG_OS_LINUX, "/opt/it's");
    assert_string_equal(md, "mkdir -p '/opt/it'\\''s'");
    LG_AUTOFREE char *fresh = lg_os_fresh_dir(LG_OS_LINUX, "/opt/x");
    assert_string_equal(fresh, "rm -rf '/opt/x' && mkdir -p '/opt/x'");
    LG_AUTOFREE char *path = lg_os_path_join(LG_OS_LINUX, "/opt/x", "a.ko");
    assert_string_equal(path, "/opt/x/a.ko");
    LG_AUTOFREE char *ln = lg_os_symlink(LG_OS_LINUX, "../lib/it's.so", "/opt/x/bin/-l");
    assert_string_equal(ln, "ln -s -- '../lib/it'\\''s.so' '/opt/x/bin/-l'");
    assert_null(lg_os_symlink(LG_OS_WINDOWS, "a", "C:\\x\\b"));
    assert_string_equal(lg_os_reboot_command(LG_OS_LINUX, false), "reboot");
    assert_non_null(strstr(lg_os_reboot_command(LG_OS_LINUX, true), "&"));
    assert_string_equal(lg_os_poweroff_command(LG_OS_LINUX, false), "poweroff");
    assert_non_null(strstr(lg_os_poweroff_command(LG_OS_LINUX, true), "poweroff) "));
}

static void test_windows_paths_and_reboot(void **state)
{
    (void)state;
    const char *dir = lg_os_build_dir(LG_OS_WINDOWS);
    assert_string_equal(dir, "C:\\ProgramData\\labgate\\build");
    LG_AUTOFREE char *in = lg_os_in_dir(LG_OS_WINDOWS, dir, "call install.cmd");
    assert_string_equal(in, "cd /d \"C:\\ProgramData\\labgate\\build\" && call install.cmd");
    LG_AUTOFREE char *md = lg_os_mkdir(LG_OS_WINDOWS, dir);
    assert_string_equal(md, "if not exist \"C:\\ProgramData\\labgate\\build\\\" mkdir \"C:\\ProgramData\\labgate\\build\"");
    LG_AUTOFREE char *path = lg_os_path_join(LG_OS_WINDOWS, dir, "agent.msi");
    assert_string_equal(path, "C:\\ProgramData\\labgate\\build\\agent.msi");
    assert_string_equal(lg_os_reboot_command(LG_OS_WINDOWS, true), "shutdown /r /t 0 /f /d p:0:0");
    assert_string_equal(lg_os_poweroff_command(LG_OS_WINDOWS, true), "shutdown /s /t 0 /f /d p:0:0");
    /* cmd metacharacters that quoting does not neutralise are refused */
    static const char *unsafe[] = { "C:\\a\"b", "C:\\100%", "a^b", "a&b", "a|b", "a<b", "a>b", "a\nb" };
    for (size_t i = 0; i < LG_N_ELEMENTS(unsafe); i++) {
        assert_false(lg_win_cmd_safe(unsafe[i]));
        assert_null(lg_os_in_dir(LG_OS_WINDOWS, unsafe[i], "dir"));
    }
    assert_true(lg_win_cmd_safe("C:\\Program Files (x86)\\Agent 7.11"));
}

static void test_powershell_is_encoded_with_prologue(void **state)
{
    (void)state;
    LG_AUTOFREE char *cmd = lg_win_powershell("exit 3");
    static const char head[] = "powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass "
                               "-EncodedCommand ";
    assert_true(strncmp(cmd, head, sizeof(head) - 1) == 0);
    LG_AUTOFREE char *script = decode_ps(cmd);
    assert_non_null(strstr(script, "$ProgressPreference = 'SilentlyContinue'"));
    assert_non_null(strstr(script, "$ErrorActionPreference = 'Stop'"));
    /* the script itself, last */
    assert_string_equal(script + strlen(script) - strlen("exit 3"), "exit 3");
    /* nothing cmd.exe would interpret */
    assert_true(lg_win_cmd_safe(cmd));
    /* non-ASCII becomes UTF-16: U+00E9 is E9 00 */
    LG_AUTOFREE char *accented = lg_win_powershell("\xc3\xa9");
    unsigned char *wide = NULL;
    size_t len = 0;
    assert_int_equal(lg_base64_decode(strstr(accented, "-EncodedCommand ") + 16, &wide, &len), 0);
    assert_int_equal(wide[len - 2], 0xe9);
    assert_int_equal(wide[len - 1], 0x00);
    free(wide);
}

static void test_msi(void **state)
{
    (void)state;
    LG_AUTOFREE char *cmd = lg_win_msi_command("C:\\ProgramData\\labgate\\build\\agent.msi", false,
                                               "C:\\ProgramData\\labgate\\build\\install.log");
    LG_AUTOFREE char *script = decode_ps(cmd);
    assert_non_null(strstr(script, "Start-Process -FilePath msiexec.exe -ArgumentList '/i "
                                   "\"C:\\ProgramData\\labgate\\build\\agent.msi\" /qn /norestart /l*v "
                                   "\"C:\\ProgramData\\labgate\\build\\install.log\"' -Wait -PassThru; "
                                   "exit $p.ExitCode"));
    LG_AUTOFREE char *un = lg_win_msi_command("C:\\a.msi", true, "C:\\u.log");
    LG_AUTOFREE char *unscript = decode_ps(un);
    assert_non_null(strstr(unscript, "'/x \"C:\\a.msi\""));
    assert_null(lg_win_msi_command("C:\\it's.msi", false, "C:\\l.log"));
    assert_null(lg_win_msi_command("C:\\a.msi", false, "C:\\100%.log"));

    assert_int_equal(lg_win_msi_outcome(0, false), LG_MSI_OK);
    assert_int_equal(lg_win_msi_outcome(3010, false), LG_MSI_OK_REBOOT_NEEDED);
    assert_int_equal(lg_win_msi_outcome(1641, false), LG_MSI_REBOOTING);
    assert_int_equal(lg_win_msi_outcome(1618, false), LG_MSI_RETRY);
    assert_int_equal(lg_win_msi_outcome(1605, true), LG_MSI_NOT_INSTALLED);
    assert_int_equal(lg_win_msi_outcome(1605, false), LG_MSI_FAILED);
    assert_int_equal(lg_win_msi_outcome(1619, false), LG_MSI_BAD_PACKAGE);
    assert_int_equal(lg_win_msi_outcome(1633, false), LG_MSI_UNSUPPORTED);
    assert_int_equal(lg_win_msi_outcome(1603, false), LG_MSI_FAILED);
    assert_string_equal(lg_msi_outcome_name(LG_MSI_OK_REBOOT_NEEDED), "installed, reboot needed");
}

static void test_service_health(void **state)
{
    (void)state;
    LG_AUTOFREE char *cmd = lg_win_service_status_command("SampleAgent");
    LG_AUTOFREE char *script = decode_ps(cmd);
    assert_non_null(strstr(script, "(Get-Service -Name 'SampleAgent').Status.ToString(); exit 0"));
    assert_null(lg_win_service_status_command("x'; Remove-Item C:\\ -Recurse; '"));
    assert_null(lg_win_service_status_command(""));
    assert_true(lg_win_service_running("Running\r\n"));
    assert_true(lg_win_service_running("  Running"));
    assert_false(lg_win_service_running("Stopped\r\n"));
    assert_false(lg_win_service_running("RunningNot\r\n"));
    assert_false(lg_win_service_running(""));
    assert_false(lg_win_service_running(NULL));
}

static const char REG_GOOD[] =
    "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\CrashControl\r\n"
    "    AutoReboot    REG_DWORD    0x0\r\n"
    "    CrashDumpEnabled    REG_DWORD    0x2\r\n"
    "    DumpFile    REG_EXPAND_SZ    %SystemRoot%\\MEMORY.DMP\r\n"
    "    MinidumpDir    REG_EXPAND_SZ    %SystemRoot%\\Minidump\r\n"
    "    Overwrite    REG_DWORD    0x1\r\n\r\n";

static void test_crashcontrol(void **state)
{
    (void)state;
    assert_string_equal(LG_WIN_CRASHCONTROL_COMMAND, "reg query HKLM\\SYSTEM\\CurrentControlSet\\Control\\CrashControl");
    lg_win_crashcontrol cc = { 9, 9 };
    assert_int_equal(lg_win_crashcontrol_parse(REG_GOOD, &cc), 0);
    assert_int_equal(cc.crash_dump_enabled, 2);
    assert_int_equal(cc.auto_reboot, 0);
    assert_null(lg_win_crashcontrol_problem(&cc));
    cc.crash_dump_enabled = 7;
    assert_non_null(strstr(lg_win_crashcontrol_problem(&cc), "automatic"));
    cc = (lg_win_crashcontrol){ 1, 1 };
    assert_non_null(strstr(lg_win_crashcontrol_problem(&cc), "AutoReboot"));
    /* a default install: the values absent */
    assert_int_equal(lg_win_crashcontrol_parse("HKEY_LOCAL_MACHINE\\...\\CrashControl\r\n", &cc), 0);
    assert_int_equal(cc.crash_dump_enabled, -1);
    assert_non_null(lg_win_crashcontrol_problem(&cc));
    lg_win_crashcontrol untouched = { 5, 5 };
    assert_int_equal(lg_win_crashcontrol_parse("ERROR: The system was unable to find the specified registry key",
                                               &untouched), -EINVAL);
    assert_int_equal(untouched.crash_dump_enabled, 5);
}

static void test_dumps(void **state)
{
    (void)state;
    LG_AUTOFREE char *cmd = lg_win_list_dumps_command();
    LG_AUTOFREE char *script = decode_ps(cmd);
    assert_non_null(strstr(script, "'C:\\Windows\\MEMORY.DMP', 'C:\\Windows\\Minidump\\*.dmp'"));
    lg_win_dump *dumps = NULL;
    size_t n = 0;
    assert_int_equal(lg_win_dumps_parse("C:\\Windows\\MEMORY.DMP|1073741824|2026-11-24T03:50:12.0000000Z\r\n"
                                        "C:\\Windows\\Minidump\\112426-7843-01.dmp|2801664|2026-11-24T03:50:10Z\r\n",
                                        &dumps, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(dumps[0].path, "C:\\Windows\\MEMORY.DMP");
    assert_int_equal(dumps[0].size, 1073741824ULL);
    assert_string_equal(dumps[1].path, "C:\\Windows\\Minidump\\112426-7843-01.dmp");
    assert_int_equal(dumps[1].size, 2801664);
    lg_win_dumps_free(dumps, n);
    /* none written */
    assert_int_equal(lg_win_dumps_parse("", &dumps, &n), 0);
    assert_int_equal(n, 0);
    lg_win_dumps_free(dumps, n);
    assert_int_equal(lg_win_dumps_parse("C:\\Windows\\MEMORY.DMP|big|x\r\n", &dumps, &n), -EINVAL);
    assert_int_equal(lg_win_dumps_parse("no bars here\r\n", &dumps, &n), -EINVAL);
}

static void test_bugcheck_event(void **state)
{
    (void)state;
    LG_AUTOFREE char *cmd = lg_win_bugcheck_event_command();
    LG_AUTOFREE char *script = decode_ps(cmd);
    assert_non_null(strstr(script, "Microsoft-Windows-WER-SystemErrorReporting"));
    uint32_t code = 0;
    uint64_t params[4] = { 0 };
    assert_int_equal(lg_win_bugcheck_parse(
                         "2026-11-24T03:50:40.1234567Z\r\nThe computer has rebooted from a bugcheck.  The bugcheck "
                         "was: 0x00000050 (0xffffd08f4e3a1000, 0x0000000000000000, 0xfffff8027a3b1234, "
                         "0x0000000000000002). A dump was saved in: C:\\Windows\\MEMORY.DMP.",
                         &code, params), 0);
    assert_int_equal(code, 0x50);
    assert_true(params[0] == 0xffffd08f4e3a1000ULL);
    assert_true(params[2] == 0xfffff8027a3b1234ULL);
    assert_true(params[3] == 2);
    uint32_t untouched = 7;
    assert_int_equal(lg_win_bugcheck_parse("", &untouched, params), -EINVAL);
    assert_int_equal(lg_win_bugcheck_parse("The bugcheck was: 0x50 (0x1, 0x2)", &untouched, params), -EINVAL);
    assert_int_equal(untouched, 7);
}

/* ------------------------------------------------------------------ stress */

static void test_stress_run_seconds(void **state)
{
    (void)state;
    /* a little less than the step, never nothing */
    assert_int_equal(lg_stress_run_seconds(1), 1);
    assert_int_equal(lg_stress_run_seconds(2), 1);
    assert_int_equal(lg_stress_run_seconds(5), 4);
    assert_int_equal(lg_stress_run_seconds(30), 27);
    assert_int_equal(lg_stress_run_seconds(600), 540);
}

static void test_stress_linux_commands(void **state)
{
    (void)state;
    static const struct { lg_stress_kind kind; const char *stressors; } want[] = {
        { LG_STRESS_PROCESS, "stress-ng --fork 2 --fork-max 8 --timeout 27s" },
        { LG_STRESS_FILE, "--dir 1 --dir-dirs 256 --rename 1 --filename 1 --dirmany 1 --dirdeep 1 " },
        { LG_STRESS_NETWORK, "--sock 2 --sock-domain ipv4 --sock-type stream" },
        { LG_STRESS_MEMORY, "--vm 1 --vm-bytes \"$(awk '/^MemAvailable:/ { print int($2 * 0.8 / 1) }' "
                            "/proc/meminfo)k\" --oom-avoid" },
        { LG_STRESS_CPU, "--cpu 0 " },
        { LG_STRESS_IO, "--hdd 1 --hdd-bytes 16m --hdd-opts wr-seq,fsync --iomix 1 " },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(want); i++) {
        LG_AUTOFREE char *cmd = lg_os_stress_command(LG_OS_LINUX, want[i].kind, 30, 0);
        if (!strstr(cmd, want[i].stressors))
            fail_msg("%s: '%s' lacks '%s'", lg_stress_kind_name(want[i].kind), cmd, want[i].stressors);
        /* stress-ng's own clock, a little under the step's */
        assert_non_null(strstr(cmd, " --timeout 27s "));
        /* a fresh directory, removed afterwards; the tool's exit status */
        assert_non_null(strstr(cmd, "d=$(mktemp -d /tmp/labgate-stress.XXXXXX)"));
        assert_non_null(strstr(cmd, "--temp-path \"$d\""));
        assert_non_null(strstr(cmd, "rm -rf \"$d\"; exit $rc"));
        /* a guest without the tool says so, with a status of its own */
        assert_non_null(strstr(cmd, "command -v stress-ng"));
        assert_non_null(strstr(cmd, "stress-ng is not installed in the guest' >&2; exit 127"));
    }
    /* workers: every stressor of the kind gets them */
    LG_AUTOFREE char *cpu4 = lg_os_stress_command(LG_OS_LINUX, LG_STRESS_CPU, 10, 4);
    assert_non_null(strstr(cpu4, "stress-ng --cpu 4 --timeout 9s"));
    LG_AUTOFREE char *proc3 = lg_os_stress_command(LG_OS_LINUX, LG_STRESS_PROCESS, 10, 3);
    assert_non_null(strstr(proc3, "stress-ng --fork 3 --fork-max 8 --timeout 9s"));
    /* exec churn beside it, as nobody (stress-ng refuses to exec as root),
     * in a directory nobody owns; its failure is the command's too */
    assert_non_null(strstr(proc3, "chown nobody \"$d\" || exit 1; su -s /bin/sh nobody -c \"cd $d && stress-ng --exec 3 "
                                  "--exec-max 8 --exec-method execve --timeout 9s --temp-path $d "));
    assert_non_null(strstr(proc3, "wait $x; xrc=$?; [ $rc -ne 0 ] || rc=$xrc; rm -rf"));
    LG_AUTOFREE char *mem2 = lg_os_stress_command(LG_OS_LINUX, LG_STRESS_MEMORY, 10, 2);
    assert_non_null(strstr(mem2, "--vm 2 --vm-bytes \"$(awk '/^MemAvailable:/ { print int($2 * 0.8 / 2) }'"));
}

/* The options exist in the stress-ng this host has (Debian 12's, the one
 * the guest image takes): --dry-run parses them and runs nothing. */
static void test_stress_options_accepted(void **state)
{
    (void)state;
    if (system("command -v stress-ng >/dev/null 2>&1") != 0) {
        print_message("# skipped: no stress-ng on this host\n");
        return;
    }
    for (int k = 0; k < LG_STRESS_MAX; k++) {
        LG_AUTOFREE char *cmd = lg_os_stress_command(LG_OS_LINUX, (lg_stress_kind)k, 2, 0);
        /* every run of stress-ng in it, dry */
        LG_AUTOBUF dry = LG_BUF_INIT;
        const char *p = cmd;
        for (const char *at; (at = strstr(p, "stress-ng --"));) {
            lg_buf_append(&dry, p, (size_t)(at - p));
            lg_buf_puts(&dry, "stress-ng --dry-run --");
            p = at + strlen("stress-ng --");
        }
        lg_buf_puts(&dry, p);
        assert_non_null(strstr(dry.data, "--dry-run"));
        LG_AUTOFREE char *quiet = lg_strdup_printf("(%s) >/dev/null 2>&1", dry.data);
        int rc = system(quiet);
        if (rc != 0)
            fail_msg("%s: stress-ng refused: %s (status %d)", lg_stress_kind_name((lg_stress_kind)k), cmd, rc);
    }
}

static void test_stress_windows_scripts(void **state)
{
    (void)state;
    static const struct { lg_stress_kind kind; const char *workers; const char *body; } want[] = {
        { LG_STRESS_PROCESS, "$workers = 2;", "& cmd.exe /d /c exit 0; $n++" },
        { LG_STRESS_FILE, "$workers = 1;", "Rename-Item -Path $f -NewName ('r' + $n); Remove-Item" },
        { LG_STRESS_NETWORK, "$workers = 2;", "[Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)" },
        { LG_STRESS_NETWORK, "$workers = 2;",
          "$c.GetStream().Write($buf, 0, $buf.Length); Fill $s.GetStream(); "
          "$s.GetStream().Write($buf, 0, $buf.Length); Fill $c.GetStream();" },
        { LG_STRESS_MEMORY, "$workers = 1;", "FreePhysicalMemory * 1KB; $want = [long]($free * 0.8 / $workers)" },
        { LG_STRESS_CPU, "$workers = [Environment]::ProcessorCount;", "$x = ($x * 7 + 3) % 1000003" },
        { LG_STRESS_IO, "$workers = 1;", "[IO.FileOptions]::WriteThrough); for" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(want); i++) {
        LG_AUTOFREE char *script = lg_win_stress_script(want[i].kind, 30, 0);
        if (!strstr(script, want[i].workers) || !strstr(script, want[i].body))
            fail_msg("%s: '%s'", lg_stress_kind_name(want[i].kind), script);
        /* every kind: a job per worker until the end, their results, exit 1
         * when one failed */
        assert_non_null(strstr(script, "$end = (Get-Date).AddSeconds(27);"));
        assert_non_null(strstr(script, "Start-Job -ArgumentList $end, $workers"));
        assert_non_null(strstr(script, "if ($failed) { exit 1 }; exit 0"));
        /* the command is the same script, encoded */
        LG_AUTOFREE char *cmd = lg_os_stress_command(LG_OS_WINDOWS, want[i].kind, 30, 0);
        assert_non_null(strstr(cmd, "powershell.exe "));
        LG_AUTOFREE char *decoded = decode_ps(cmd);
        assert_non_null(strstr(decoded, script));
    }
    /* files of the file and io kinds go, whatever happens */
    LG_AUTOFREE char *file = lg_win_stress_script(LG_STRESS_FILE, 10, 0);
    assert_non_null(strstr(file, "finally { Remove-Item -Recurse -Force -Path $d"));
    LG_AUTOFREE char *io = lg_win_stress_script(LG_STRESS_IO, 10, 0);
    assert_non_null(strstr(io, "$s.Flush($true)"));
    assert_non_null(strstr(io, "finally { Remove-Item -Force -Path $f"));
    /* workers given: exactly that many jobs, for the cpu kind too */
    LG_AUTOFREE char *cpu3 = lg_win_stress_script(LG_STRESS_CPU, 10, 3);
    assert_non_null(strstr(cpu3, "$workers = 3; $end = (Get-Date).AddSeconds(9);"));
}

/* The guest side of the guest-to-host probe: busybox nc, detached and
 * bounded, on Linux; PowerShell's TcpClient on Windows; tokens that a
 * shell would interpret are refused. */
static void test_net_probe_command(void **state)
{
    (void)state;
    LG_AUTOFREE char *linux_cmd = lg_os_net_probe_command(LG_OS_LINUX, "10.0.2.100", 7357, "lgprobe-1-ab", 5);
    assert_string_equal(linux_cmd, "(echo lgprobe-1-ab | timeout 5 nc 10.0.2.100 7357 >/dev/null 2>&1 &)");
    LG_AUTOFREE char *win = lg_os_net_probe_command(LG_OS_WINDOWS, "10.0.2.100", 7357, "lgprobe-1-ab", 5);
    assert_non_null(strstr(win, "powershell.exe"));
    assert_non_null(strstr(win, "-EncodedCommand"));
    assert_null(lg_os_net_probe_command(LG_OS_LINUX, "10.0.2.100", 7357, "x; reboot", 5));
    assert_null(lg_os_net_probe_command(LG_OS_WINDOWS, "10.0.2.100", 7357, "a\"b", 5));
    LG_AUTOFREE char *floor = lg_os_net_probe_command(LG_OS_LINUX, "10.0.2.100", 7357, "t", 0);
    assert_non_null(strstr(floor, "timeout 1 "));
}

/* ------------------------------------------------------- Driver Verifier */

/* verifier /querysettings on Windows 10/11 (its layout; not captured here,
 * there is no Windows guest on these machines) */
#define VERIFIER_SETTINGS                                                                                     \
    "Special pool: Enabled\r\n"                                                                               \
    "Force IRQL checking: Enabled\r\n"                                                                        \
    "Pool tracking: Enabled\r\n"                                                                              \
    "I/O verification: Enabled\r\n"                                                                           \
    "Deadlock detection: Enabled\r\n"                                                                         \
    "DMA checking: Enabled\r\n"                                                                               \
    "Security checks: Enabled\r\n"                                                                            \
    "Force pending I/O requests: Disabled\r\n"                                                                \
    "Low resources simulation: Disabled\r\n"                                                                  \
    "Miscellaneous checks: Enabled\r\n"                                                                       \
    "DDI compliance checking: Enabled\r\n"                                                                    \
    "\r\n"                                                                                                     \
    "Verified drivers:\r\n"                                                                                   \
    "\r\n"                                                                                                     \
    "SampleDrv.sys\r\n"                                                                                       \
    "netfilter.sys\r\n"

static void test_verifier_commands(void **state)
{
    (void)state;
    char *drivers[] = { (char *)"sampledrv.sys", (char *)"netfilter.sys" };
    LG_AUTOFREE char *standard = lg_win_verifier_command(LG_VERIFIER_STANDARD, drivers, 2);
    assert_string_equal(standard, "verifier /standard /driver sampledrv.sys netfilter.sys");
    LG_AUTOFREE char *pool = lg_win_verifier_command(LG_VERIFIER_SPECIAL_POOL, drivers, 1);
    assert_string_equal(pool, "verifier /flags 0x1 /driver sampledrv.sys");
    /* nothing to verify, or a name that is more than a file name */
    assert_null(lg_win_verifier_command(LG_VERIFIER_NONE, drivers, 2));
    assert_null(lg_win_verifier_command(LG_VERIFIER_STANDARD, drivers, 0));
    char *bad[] = { (char *)"a.sys & shutdown /s" };
    assert_null(lg_win_verifier_command(LG_VERIFIER_STANDARD, bad, 1));
    char *path[] = { (char *)"C:\\Windows\\x.sys" };
    assert_null(lg_win_verifier_command(LG_VERIFIER_STANDARD, path, 1));
    assert_string_equal(LG_WIN_VERIFIER_QUERY_COMMAND, "verifier /querysettings");
}

static void test_verifier_settings(void **state)
{
    (void)state;
    char *drivers[] = { (char *)"sampledrv.sys", (char *)"netfilter.sys" };
    lg_win_verifier_settings s;
    assert_int_equal(lg_win_verifier_settings_parse(VERIFIER_SETTINGS, &s), 0);
    assert_true(s.special_pool);
    assert_int_equal(s.checks_enabled, 9);
    assert_int_equal(s.n_drivers, 2);
    assert_string_equal(s.drivers[0], "sampledrv.sys");
    assert_null(lg_win_verifier_problem(&s, LG_VERIFIER_STANDARD, drivers, 2));
    assert_null(lg_win_verifier_problem(&s, LG_VERIFIER_SPECIAL_POOL, drivers, 1));
    char *other[] = { (char *)"other.sys" };
    LG_AUTOFREE char *missing = lg_win_verifier_problem(&s, LG_VERIFIER_STANDARD, other, 1);
    assert_string_equal(missing, "other.sys is not among the verified drivers");
    lg_win_verifier_settings_clear(&s);

    /* the reboot did not happen, or the command did not take: nothing verified */
    assert_int_equal(lg_win_verifier_settings_parse("Special pool: Disabled\r\n\r\nVerified drivers:\r\n\r\nNone\r\n",
                                                    &s), 0);
    assert_false(s.special_pool);
    assert_int_equal(s.n_drivers, 0);
    LG_AUTOFREE char *none = lg_win_verifier_problem(&s, LG_VERIFIER_SPECIAL_POOL, drivers, 1);
    assert_string_equal(none, "sampledrv.sys is not among the verified drivers");
    lg_win_verifier_settings_clear(&s);

    /* the driver verified, special pool off */
    assert_int_equal(lg_win_verifier_settings_parse("Special pool: Disabled\nPool tracking: Enabled\n"
                                                    "Verified drivers:\nsampledrv.sys\n", &s), 0);
    LG_AUTOFREE char *no_pool = lg_win_verifier_problem(&s, LG_VERIFIER_SPECIAL_POOL, drivers, 1);
    assert_string_equal(no_pool, "special pool is not enabled");
    lg_win_verifier_settings_clear(&s);

    /* not verifier's output at all */
    s.n_drivers = 99;
    assert_int_equal(lg_win_verifier_settings_parse("'verifier' is not recognized as an internal or external command",
                                                    &s), -EINVAL);
    assert_int_equal(s.n_drivers, 99);
    assert_int_equal(lg_win_verifier_settings_parse(NULL, &s), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net_probe_command),
        cmocka_unit_test(test_linux_commands),
        cmocka_unit_test(test_windows_paths_and_reboot),
        cmocka_unit_test(test_powershell_is_encoded_with_prologue),
        cmocka_unit_test(test_msi),
        cmocka_unit_test(test_service_health),
        cmocka_unit_test(test_crashcontrol),
        cmocka_unit_test(test_dumps),
        cmocka_unit_test(test_bugcheck_event),
        cmocka_unit_test(test_stress_run_seconds),
        cmocka_unit_test(test_stress_linux_commands),
        cmocka_unit_test(test_stress_options_accepted),
        cmocka_unit_test(test_stress_windows_scripts),
        cmocka_unit_test(test_verifier_commands),
        cmocka_unit_test(test_verifier_settings),
    };
    return cmocka_run_group_tests_name("oscmd", tests, NULL, NULL);
}
