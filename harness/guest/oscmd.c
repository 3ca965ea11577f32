#include "oscmd.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"

const char *lg_os_build_dir(lg_os os)
{
    return os == LG_OS_WINDOWS ? "C:\\ProgramData\\labgate\\build" : "/opt/labgate/build";
}

const char *lg_os_content_dir(lg_os os)
{
    return os == LG_OS_WINDOWS ? "C:\\ProgramData\\labgate\\content" : "/opt/labgate/content";
}

bool lg_win_cmd_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || strchr("\"%^&|<>", *p))
            return false;
    return true;
}

char *lg_os_in_dir(lg_os os, const char *dir, const char *command)
{
    if (os == LG_OS_WINDOWS)
        return lg_win_cmd_safe(dir) ? lg_strdup_printf("cd /d \"%s\" && %s", dir, command) : NULL;
    LG_AUTOFREE char *q = lg_shell_quote(dir);
    return lg_strdup_printf("cd %s && %s", q, command);
}

char *lg_os_mkdir(lg_os os, const char *dir)
{
    if (os == LG_OS_WINDOWS)
        return lg_win_cmd_safe(dir) ? lg_strdup_printf("if not exist \"%s\\\" mkdir \"%s\"", dir, dir) : NULL;
    LG_AUTOFREE char *q = lg_shell_quote(dir);
    return lg_strdup_printf("mkdir -p %s", q);
}

char *lg_os_fresh_dir(lg_os os, const char *dir)
{
    if (os == LG_OS_WINDOWS)
        return lg_win_cmd_safe(dir)
                   ? lg_strdup_printf("(if exist \"%s\\\" rmdir /s /q \"%s\") && mkdir \"%s\"", dir, dir, dir)
                   : NULL;
    LG_AUTOFREE char *q = lg_shell_quote(dir);
    return lg_strdup_printf("rm -rf %s && mkdir -p %s", q, q);
}

char *lg_os_symlink(lg_os os, const char *target, const char *link_path)
{
    if (os == LG_OS_WINDOWS)
        return NULL;
    LG_AUTOFREE char *qt = lg_shell_quote(target);
    LG_AUTOFREE char *ql = lg_shell_quote(link_path);
    return lg_strdup_printf("ln -s -- %s %s", qt, ql);
}

char *lg_os_path_join(lg_os os, const char *dir, const char *name)
{
    return lg_strdup_printf("%s%s%s", dir, os == LG_OS_WINDOWS ? "\\" : "/", name);
}

const char *lg_os_reboot_command(lg_os os, bool detached)
{
    if (os == LG_OS_WINDOWS)
        /* /d p:0:0: a planned restart, so the event log tells labgate's
         * reboots from crashes; shutdown returns at once either way */
        return "shutdown /r /t 0 /f /d p:0:0";
    return detached ? "(sleep 1; reboot) </dev/null >/dev/null 2>&1 &" : "reboot";
}

const char *lg_os_poweroff_command(lg_os os, bool detached)
{
    if (os == LG_OS_WINDOWS)
        return "shutdown /s /t 0 /f /d p:0:0";
    return detached ? "(sleep 1; poweroff) </dev/null >/dev/null 2>&1 &" : "poweroff";
}

/* ------------------------------------------------------------------ Windows */

static const char PS_PROLOGUE[] = "$ProgressPreference = 'SilentlyContinue'; $ErrorActionPreference = 'Stop'; "
                                  "[Console]::OutputEncoding = [Text.Encoding]::UTF8; ";

/* UTF-8 to UTF-16LE; invalid sequences become U+FFFD. */
static void utf16le(const char *s, lg_buf *out)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        int extra;
        if (*p < 0x80) {
            cp = *p;
            extra = 0;
        } else if ((*p & 0xe0) == 0xc0) {
            cp = *p & 0x1f;
            extra = 1;
        } else if ((*p & 0xf0) == 0xe0) {
            cp = *p & 0x0f;
            extra = 2;
        } else if ((*p & 0xf8) == 0xf0) {
            cp = *p & 0x07;
            extra = 3;
        } else {
            cp = 0xfffd;
            extra = 0;
        }
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if ((*p & 0xc0) != 0x80) {
                cp = 0xfffd;
                break;
            }
            cp = cp << 6 | (*p & 0x3f);
        }
        if (cp > 0x10ffff)
            cp = 0xfffd;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            uint16_t units[2] = { (uint16_t)(0xd800 | (cp >> 10)), (uint16_t)(0xdc00 | (cp & 0x3ff)) };
            unsigned char b[4] = { (unsigned char)units[0], (unsigned char)(units[0] >> 8),
                                   (unsigned char)units[1], (unsigned char)(units[1] >> 8) };
            lg_buf_append(out, b, 4);
        } else {
            unsigned char b[2] = { (unsigned char)cp, (unsigned char)(cp >> 8) };
            lg_buf_append(out, b, 2);
        }
    }
}

char *lg_win_powershell(const char *script)
{
    LG_AUTOFREE char *full = lg_strdup_printf("%s%s", PS_PROLOGUE, script);
    LG_AUTOBUF wide = LG_BUF_INIT;
    utf16le(full, &wide);
    LG_AUTOFREE char *b64 = lg_base64_encode(wide.data, wide.len);
    return lg_strdup_printf("powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass "
                            "-EncodedCommand %s", b64);
}

char *lg_win_msi_command(const char *msi_path, bool uninstall, const char *log_path)
{
    /* inside a PowerShell single-quoted string: no ' allowed either */
    if (!lg_win_cmd_safe(msi_path) || !lg_win_cmd_safe(log_path) || strchr(msi_path, '\'') || strchr(log_path, '\''))
        return NULL;
    /* msiexec is a GUI program: cmd would not wait for it; PowerShell's
     * Start-Process -Wait does, and hands its exit code on */
    LG_AUTOFREE char *script = lg_strdup_printf(
        "$p = Start-Process -FilePath msiexec.exe -ArgumentList '%s \"%s\" /qn /norestart /l*v \"%s\"' "
        "-Wait -PassThru; exit $p.ExitCode",
        uninstall ? "/x" : "/i", msi_path, log_path);
    return lg_win_powershell(script);
}

lg_msi_outcome lg_win_msi_outcome(int exit_code, bool uninstall)
{
    switch (exit_code) {
    case 0: return LG_MSI_OK;
    case 3010: return LG_MSI_OK_REBOOT_NEEDED;
    case 1641: return LG_MSI_REBOOTING;
    case 1618: return LG_MSI_RETRY;
    case 1605: return uninstall ? LG_MSI_NOT_INSTALLED : LG_MSI_FAILED;
    case 1619: return LG_MSI_BAD_PACKAGE;
    case 1633: return LG_MSI_UNSUPPORTED;
    default: return LG_MSI_FAILED;
    }
}

const char *lg_msi_outcome_name(lg_msi_outcome outcome)
{
    static const char *const names[] = {
        "installed", "installed, reboot needed", "installed, the installer is rebooting",
        "another installation is in progress", "not installed (nothing to remove)",
        "the package could not be opened", "the package does not support this platform", "failed",
    };
    return (unsigned)outcome < sizeof(names) / sizeof(names[0]) ? names[outcome] : "failed";
}

char *lg_win_service_status_command(const char *service)
{
    if (!lg_win_cmd_safe(service) || strchr(service, '\'') || !*service)
        return NULL;
    LG_AUTOFREE char *script = lg_strdup_printf("(Get-Service -Name '%s').Status.ToString(); exit 0", service);
    return lg_win_powershell(script);
}

bool lg_win_service_running(const char *output)
{
    if (!output)
        return false;
    const char *p = output + strspn(output, " \t\r\n");
    return strncmp(p, "Running", 7) == 0 && (p[7] == '\0' || strchr(" \t\r\n", p[7]));
}

int lg_win_crashcontrol_parse(const char *reg_output, lg_win_crashcontrol *out)
{
    if (!reg_output || !strstr(reg_output, "CrashControl"))
        return -EINVAL;
    lg_win_crashcontrol cc = { -1, -1 };
    const char *line = reg_output;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        LG_AUTOFREE char *copy = lg_strndup(line, len);
        /* "    AutoReboot    REG_DWORD    0x0" */
        const char *cursor = copy, *name, *type, *hex;
        size_t name_len = lg_next_word(&cursor, &name);
        size_t type_len = lg_next_word(&cursor, &type);
        size_t hex_len = lg_next_word(&cursor, &hex);
        char *hex_end = NULL;
        errno = 0;
        unsigned long value = hex_len > 2 && strncmp(hex, "0x", 2) == 0 ? strtoul(hex + 2, &hex_end, 16) : 0;
        if (hex_end == hex + hex_len && errno == 0 && value <= INT_MAX && type_len == 9 &&
            strncmp(type, "REG_DWORD", 9) == 0) {
            if (name_len == 16 && strncmp(name, "CrashDumpEnabled", 16) == 0)
                cc.crash_dump_enabled = (int)value;
            else if (name_len == 10 && strncmp(name, "AutoReboot", 10) == 0)
                cc.auto_reboot = (int)value;
        }
        line = end ? end + 1 : NULL;
    }
    *out = cc;
    return 0;
}

const char *lg_win_crashcontrol_problem(const lg_win_crashcontrol *cc)
{
    switch (cc->crash_dump_enabled) {
    case 1:
    case 2:
        break;
    case 0: return "CrashDumpEnabled is 0: Windows writes no dump";
    case 3: return "CrashDumpEnabled is 3: only a minidump";
    case 7: return "CrashDumpEnabled is 7 (automatic): Windows may shrink it to a minidump";
    case -1: return "CrashDumpEnabled is not set";
    default: return "CrashDumpEnabled has an unknown value";
    }
    if (cc->auto_reboot != 0)
        return "AutoReboot is not 0: the blue screen does not stay for the screenshot";
    return NULL;
}

char *lg_win_list_dumps_command(void)
{
    return lg_win_powershell(
        "foreach ($f in @(Get-ChildItem -Path 'C:\\Windows\\MEMORY.DMP', 'C:\\Windows\\Minidump\\*.dmp' "
        "-ErrorAction SilentlyContinue)) { '{0}|{1}|{2}' -f $f.FullName, $f.Length, "
        "$f.LastWriteTimeUtc.ToString('o') }; exit 0");
}

void lg_win_dumps_free(lg_win_dump *dumps, size_t n)
{
    for (size_t i = 0; dumps && i < n; i++)
        free(dumps[i].path);
    free(dumps);
}

int lg_win_dumps_parse(const char *output, lg_win_dump **dumps, size_t *n)
{
    lg_win_dump *list = NULL;
    size_t count = 0;
    for (const char *line = output ? output : ""; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
            len--;
        if (len) {
            /* '|' cannot occur in a Windows path */
            const char *bar1 = memchr(line, '|', len);
            const char *bar2 = bar1 ? memchr(bar1 + 1, '|', len - (size_t)(bar1 + 1 - line)) : NULL;
            char *num_end = NULL;
            unsigned long long size = bar2 ? strtoull(bar1 + 1, &num_end, 10) : 0;
            if (!bar2 || bar1 == line || num_end != bar2) {
                lg_win_dumps_free(list, count);
                return -EINVAL;
            }
            list = lg_realloc_n(list, count + 1, sizeof(*list));
            list[count].path = lg_strndup(line, (size_t)(bar1 - line));
            list[count].size = size;
            count++;
        }
        line = end ? end + 1 : line + strlen(line);
    }
    *dumps = list;
    *n = count;
    return 0;
}

char *lg_win_bugcheck_event_command(void)
{
    return lg_win_powershell(
        "$e = Get-WinEvent -FilterHashtable @{ LogName = 'System'; "
        "ProviderName = 'Microsoft-Windows-WER-SystemErrorReporting'; Id = 1001 } -MaxEvents 1 "
        "-ErrorAction SilentlyContinue; if ($e) { $e.TimeCreated.ToUniversalTime().ToString('o'); $e.Message }; exit 0");
}

int lg_win_bugcheck_parse(const char *output, uint32_t *code, uint64_t params[4])
{
    const char *p = output ? strstr(output, "The bugcheck was: ") : NULL;
    if (!p)
        return -EINVAL;
    p += strlen("The bugcheck was: ");
    char *end;
    unsigned long long c = strtoull(p, &end, 16);
    if (end == p || c > 0xffffffffULL)
        return -EINVAL;
    p = end + strspn(end, " ");
    if (*p++ != '(')
        return -EINVAL;
    uint64_t args[4];
    for (int i = 0; i < 4; i++) {
        p += strspn(p, " ");
        args[i] = strtoull(p, &end, 16);
        if (end == p)
            return -EINVAL;
        p = end + strspn(end, " ");
        if (*p++ != (i == 3 ? ')' : ','))
            return -EINVAL;
    }
    *code = (uint32_t)c;
    memcpy(params, args, sizeof(args));
    return 0;
}

/* ------------------------------------------------------------------- stress */

int lg_stress_run_seconds(int seconds)
{
    /* a tenth, at least one second, off; never below one second */
    int margin = seconds / 10 > 1 ? seconds / 10 : 1;
    return seconds - margin >= 1 ? seconds - margin : 1;
}

/* stress-ng's stressors per kind (Debian 12's 0.15.06); W: workers. */
static char *linux_stressors(lg_stress_kind kind, int workers)
{
    int w = workers;
    switch (kind) {
    case LG_STRESS_PROCESS:
        /* short-lived processes: fork+exit, a few children at a time per
         * worker, so that even a small guest keeps up (fork+exec: see
         * linux_exec_churn) */
        w = w ? w : 2;
        return lg_strdup_printf("--fork %d --fork-max 8", w);
    case LG_STRESS_FILE:
        /* directories made and removed, files renamed, files of every
         * name created and removed, many files in one directory, a deep
         * tree of written files (4 KiB each) built and removed */
        w = w ? w : 1;
        return lg_strdup_printf("--dir %d --dir-dirs 256 --rename %d --filename %d --dirmany %d --dirdeep %d "
                                "--dirdeep-dirs 2 --dirdeep-files 4 --dirdeep-bytes 4096 --dirdeep-inodes 5000",
                                w, w, w, w, w);
    case LG_STRESS_NETWORK:
        /* TCP connect/send/recv/close over loopback, client and server in
         * the guest */
        w = w ? w : 2;
        return lg_strdup_printf("--sock %d --sock-domain ipv4 --sock-type stream", w);
    case LG_STRESS_MEMORY:
        /* 80 % of what the kernel says is available, split over the
         * workers, mapped, dirtied and unmapped again and again (no
         * --vm-keep): repeated allocation, reclaim pressure.  stress-ng
         * makes its own workers the OOM killer's first choice and backs
         * off near the limit (--oom-avoid), so the agent stays */
        w = w ? w : 1;
        return lg_strdup_printf("--vm %d --vm-bytes \"$(awk '/^MemAvailable:/ { print int($2 * 0.8 / %d) }' "
                                "/proc/meminfo)k\" --oom-avoid", w, w);
    case LG_STRESS_CPU:
        /* 0: one worker per online CPU */
        return lg_strdup_printf("--cpu %d", w);
    case LG_STRESS_IO:
        /* writes with fsync after each, a read/write/sync mix, and
         * sync_file_range; small files (the root disk is small) */
        w = w ? w : 1;
        return lg_strdup_printf("--hdd %d --hdd-bytes 16m --hdd-opts wr-seq,fsync --iomix %d --iomix-bytes 16m "
                                "--sync-file %d --sync-file-bytes 16m", w, w, w);
    case LG_STRESS_MAX:
        break;
    }
    return lg_strdup_printf("--cpu %d", w);
}

/* stress-ng's exec stressor refuses to run as root (it would exec as
 * root): the process kind runs it as nobody, beside the fork stressor, in a
 * directory nobody may write ($d comes from mktemp: no quoting needed). */
static char *linux_exec_churn(int workers, int run_s)
{
    int w = workers ? workers : 2;
    return lg_strdup_printf("chown nobody \"$d\" || exit 1; "
                            "su -s /bin/sh nobody -c \"cd $d && stress-ng --exec %d --exec-max 8 --exec-method execve "
                            "--timeout %ds --temp-path $d --metrics-brief --log-brief\" 2>&1 & x=$!; ",
                            w, run_s);
}

char *lg_os_stress_command(lg_os os, lg_stress_kind kind, int seconds, int workers)
{
    if (os == LG_OS_WINDOWS) {
        LG_AUTOFREE char *script = lg_win_stress_script(kind, seconds, workers);
        return lg_win_powershell(script);
    }
    int run_s = lg_stress_run_seconds(seconds);
    LG_AUTOFREE char *stressors = linux_stressors(kind, workers);
    LG_AUTOFREE char *beside = kind == LG_STRESS_PROCESS ? linux_exec_churn(workers, run_s) : lg_strdup("");
    /* the tool's summary goes to the output (the line that says why on a
     * failure); its directory goes whatever happens; the status is the
     * first failure of the two runs of the process kind */
    return lg_strdup_printf(
        "command -v stress-ng >/dev/null 2>&1 || { echo 'stress-ng is not installed in the guest' >&2; exit 127; }; "
        "d=$(mktemp -d /tmp/labgate-stress.XXXXXX) || exit 1; %s"
        "stress-ng %s --timeout %ds --temp-path \"$d\" --metrics-brief --log-brief 2>&1; rc=$?; "
        "%s"
        "rm -rf \"$d\"; exit $rc",
        beside, stressors, run_s, kind == LG_STRESS_PROCESS ? "wait $x; xrc=$?; [ $rc -ne 0 ] || rc=$xrc; " : "");
}

/* Windows: the same kinds with what every Windows has.  Each worker is a
 * PowerShell job running until $end; the script waits for them, prints
 * their counts and exits 0, or 1 when a job failed. */
static const char *const WIN_STRESS_BODY[LG_STRESS_MAX] = {
    [LG_STRESS_PROCESS] =
        /* a short-lived process per turn: cmd.exe starting and exiting */
        "$n = 0; while ((Get-Date) -lt $end) { & cmd.exe /d /c exit 0; $n++ }; \"$n processes\"",
    [LG_STRESS_FILE] =
        /* a directory tree: files created, written, renamed and deleted */
        "$d = Join-Path $env:TEMP ('labgate-stress-' + [guid]::NewGuid()); $n = 0; "
        "try { while ((Get-Date) -lt $end) { $s = Join-Path $d ('d' + ($n % 16)); "
        "[void](New-Item -ItemType Directory -Force -Path $s); $f = Join-Path $s ('f' + $n); "
        "[IO.File]::WriteAllBytes($f, (New-Object byte[] 4096)); Rename-Item -Path $f -NewName ('r' + $n); "
        "Remove-Item -Path (Join-Path $s ('r' + $n)); $n++ } } "
        "finally { Remove-Item -Recurse -Force -Path $d -ErrorAction SilentlyContinue }; \"$n files\"",
    [LG_STRESS_NETWORK] =
        /* TCP connection churn over loopback: connect, 16 KiB each way
         * (within the socket buffers: one thread does both ends), close */
        "$l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $l.Start(); "
        "$port = $l.LocalEndpoint.Port; $buf = New-Object byte[] 16384; $n = 0; "
        "function Fill($s) { $got = 0; while ($got -lt $buf.Length) { $r = $s.Read($buf, $got, $buf.Length - $got); "
        "if ($r -le 0) { throw 'connection closed early' }; $got += $r } }; "
        "try { while ((Get-Date) -lt $end) { $c = [Net.Sockets.TcpClient]::new(); "
        "$c.Connect([Net.IPAddress]::Loopback, $port); $s = $l.AcceptTcpClient(); "
        "$c.GetStream().Write($buf, 0, $buf.Length); Fill $s.GetStream(); "
        "$s.GetStream().Write($buf, 0, $buf.Length); Fill $c.GetStream(); "
        "$c.Close(); $s.Close(); $n++ } } finally { $l.Stop() }; \"$n connections\"",
    [LG_STRESS_MEMORY] =
        /* blocks up to 80 % of the free memory (split over the jobs),
         * every page touched, freed, again */
        "$n = 0; while ((Get-Date) -lt $end) { $free = (Get-CimInstance Win32_OperatingSystem).FreePhysicalMemory * 1KB; "
        "$want = [long]($free * 0.8 / $workers); $blocks = New-Object Collections.ArrayList; "
        "for ($have = 0; $have -lt $want -and (Get-Date) -lt $end; $have += 64MB) { $b = New-Object byte[] 64MB; "
        "for ($i = 0; $i -lt $b.Length; $i += 4096) { $b[$i] = 1 }; [void]$blocks.Add($b) }; "
        "$blocks = $null; [GC]::Collect(); $n++ }; \"$n rounds\"",
    [LG_STRESS_CPU] =
        "$n = 0; while ((Get-Date) -lt $end) { $x = 1; for ($i = 0; $i -lt 100000; $i++) { $x = ($x * 7 + 3) % 1000003 }; "
        "$n++ }; \"$n rounds\"",
    [LG_STRESS_IO] =
        /* 1 MiB writes, each flushed to the disk (FlushFileBuffers) */
        "$f = Join-Path $env:TEMP ('labgate-stress-' + [guid]::NewGuid()); $buf = New-Object byte[] 1MB; $n = 0; "
        "try { while ((Get-Date) -lt $end) { $s = [IO.FileStream]::new($f, 'Create', 'Write', 'None', 4096, "
        "[IO.FileOptions]::WriteThrough); for ($i = 0; $i -lt 16 -and (Get-Date) -lt $end; $i++) { "
        "$s.Write($buf, 0, $buf.Length); $s.Flush($true); $n++ }; $s.Close() } } "
        "finally { Remove-Item -Force -Path $f -ErrorAction SilentlyContinue }; \"$n MiB written with fsync\"",
};

char *lg_win_stress_script(lg_stress_kind kind, int seconds, int workers)
{
    if ((unsigned)kind >= LG_STRESS_MAX)
        kind = LG_STRESS_CPU;
    /* cpu 0: a job per logical processor, like stress-ng's --cpu 0 */
    const char *count = workers > 0 ? NULL : kind == LG_STRESS_CPU ? "[Environment]::ProcessorCount"
                                                                      : kind == LG_STRESS_PROCESS || kind == LG_STRESS_NETWORK
                                                                          ? "2" : "1";
    LG_AUTOFREE char *workers_text = count ? lg_strdup(count) : lg_strdup_printf("%d", workers);
    return lg_strdup_printf(
        "$workers = %s; $end = (Get-Date).AddSeconds(%d); "
        "$jobs = @(1..$workers | ForEach-Object { Start-Job -ArgumentList $end, $workers -ScriptBlock { "
        "param($end, $workers) $ErrorActionPreference = 'Stop'; %s } }); "
        "$jobs | Wait-Job | Out-Null; $failed = @($jobs | Where-Object { $_.State -ne 'Completed' }).Count; "
        "$jobs | Receive-Job -ErrorAction Continue; $jobs | Remove-Job -Force; "
        "'stress %s: {0} worker(s), {1} failed' -f $workers, $failed; if ($failed) { exit 1 }; exit 0",
        workers_text, lg_stress_run_seconds(seconds), WIN_STRESS_BODY[kind], lg_stress_kind_name(kind));
}

char *lg_os_net_probe_command(lg_os os, const char *addr, int port, const char *token, int timeout_s)
{
    for (const char *p = token; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return NULL;
    if (timeout_s < 1)
        timeout_s = 1;
    if (os == LG_OS_WINDOWS) {
        LG_AUTOFREE char *script = lg_strdup_printf(
            "$c = New-Object Net.Sockets.TcpClient; "
            "try { if ($c.ConnectAsync('%s', %d).Wait(%d)) { $s = $c.GetStream(); "
            "$b = [Text.Encoding]::ASCII.GetBytes(\"%s`n\"); $s.Write($b, 0, $b.Length); $s.Flush(); "
            "Start-Sleep -Milliseconds 200 } } catch { } finally { $c.Close() }; exit 0",
            addr, port, timeout_s * 1000, token);
        return lg_win_powershell(script);
    }
    /* busybox nc (its static wget crashes resolving): detached, as nc only
     * ends when the other side closes, which the listener never does */
    return lg_strdup_printf("(echo %s | timeout %d nc %s %d >/dev/null 2>&1 &)", token, timeout_s, addr, port);
}

/* ------------------------------------------------------- Driver Verifier */

/* A driver's file name as verifier.exe takes it: letters, digits, . _ -,
 * nothing a shell or a path could make more of. */
static bool driver_name_ok(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > 64 || name[0] == '.')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9') || strchr("._-", name[i])))
            return false;
    return true;
}

char *lg_win_verifier_command(lg_driver_verifier mode, char *const *drivers, size_t n)
{
    const char *flags = lg_driver_verifier_info_of(mode)->flags;
    if (!flags || n == 0)
        return NULL;
    lg_buf cmd = LG_BUF_INIT;
    lg_buf_printf(&cmd, "verifier %s /driver", flags);
    for (size_t i = 0; i < n; i++) {
        if (!driver_name_ok(drivers[i])) {
            lg_buf_free(&cmd);
            return NULL;
        }
        lg_buf_printf(&cmd, " %s", drivers[i]);
    }
    return lg_buf_steal(&cmd);
}

/* One line of output without its line ending and surrounding blanks. */
static char *trimmed_line(const char *line, size_t len)
{
    while (len && strchr(" \t\r", line[len - 1]))
        len--;
    size_t lead = 0;
    while (lead < len && strchr(" \t", line[lead]))
        lead++;
    return lg_strndup(line + lead, len - lead);
}

int lg_win_verifier_settings_parse(const char *output, lg_win_verifier_settings *out)
{
    if (!output)
        return -EINVAL;
    lg_win_verifier_settings s = { 0 };
    bool in_drivers = false, saw_drivers = false;
    for (const char *line = output; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        LG_AUTOFREE char *text = trimmed_line(line, len);
        line = end ? end + 1 : NULL;
        if (strcmp(text, "Verified drivers:") == 0) {
            in_drivers = saw_drivers = true;
            continue;
        }
        if (in_drivers) {
            /* "None" when no driver is; names otherwise, one a line */
            if (*text && strcmp(text, "None") != 0 && driver_name_ok(text) && s.n_drivers < 1024) {
                for (char *p = text; *p; p++)
                    *p = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
                s.drivers = lg_realloc_n(s.drivers, s.n_drivers + 1, sizeof(*s.drivers));
                s.drivers[s.n_drivers++] = lg_strdup(text);
            }
            continue;
        }
        const char *colon = strrchr(text, ':');
        if (!colon || strcmp(colon, ": Enabled") != 0)
            continue;
        s.checks_enabled++;
        if (strncmp(text, "Special pool:", 13) == 0)
            s.special_pool = true;
    }
    if (!saw_drivers) {
        lg_win_verifier_settings_clear(&s);
        return -EINVAL;
    }
    *out = s;
    return 0;
}

void lg_win_verifier_settings_clear(lg_win_verifier_settings *s)
{
    for (size_t i = 0; i < s->n_drivers; i++)
        free(s->drivers[i]);
    free(s->drivers);
    *s = (lg_win_verifier_settings){ 0 };
}

char *lg_win_verifier_problem(const lg_win_verifier_settings *s, lg_driver_verifier mode, char *const *drivers,
                              size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < s->n_drivers && !found; k++)
            found = strcasecmp(s->drivers[k], drivers[i]) == 0;
        if (!found)
            return lg_strdup_printf("%s is not among the verified drivers", drivers[i]);
    }
    if (mode == LG_VERIFIER_SPECIAL_POOL && !s->special_pool)
        return lg_strdup("special pool is not enabled");
    if (mode == LG_VERIFIER_STANDARD && (!s->special_pool || s->checks_enabled < 2))
        return lg_strdup_printf("the standard checks are not enabled (%d check(s) on)", s->checks_enabled);
    return NULL;
}
