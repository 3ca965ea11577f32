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
    };
    return cmocka_run_group_tests_name("oscmd", tests, NULL, NULL);
}
