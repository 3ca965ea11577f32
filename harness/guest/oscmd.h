/* What labgate runs in a guest, per OS: where builds and content go, how to
 * run a command in a directory, reboot, make a directory; and the Windows
 * command set (MSI install/uninstall, service health, crash-dump settings,
 * dumps after a crash).  Builders return new strings, never NULL except,
 * where said, for an argument cmd.exe cannot carry safely (allocation
 * failure aborts, base/mem.h); parsers return 0 or -EINVAL and write
 * nothing on failure.
 *
 * Windows commands are cmd.exe command lines (what OpenSSH for Windows and
 * labgate's qemu-ga transport both run); PowerShell is always explicit and
 * encoded (-EncodedCommand), so no quoting layer is ever guessed.  None of
 * the Windows commands has been run against Windows here (no image exists
 * on these machines): they follow the documentation and are unit-tested as
 * strings and parsers. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/hardening.h"
#include "model/kinds.h"

const char *lg_os_build_dir(lg_os os);
const char *lg_os_content_dir(lg_os os);
/* command, run with dir as the working directory.  These three return NULL
 * on Windows for a dir cmd.exe cannot carry safely (lg_win_cmd_safe). */
char *lg_os_in_dir(lg_os os, const char *dir, const char *command);
/* Creates dir and its parents; succeeds when it exists. */
char *lg_os_mkdir(lg_os os, const char *dir);
/* Removes dir and everything in it, then creates it empty. */
char *lg_os_fresh_dir(lg_os os, const char *dir);
/* Creates a symbolic link at link_path pointing to target (relative,
 * '/'-separated).  NULL on Windows: its links need a privilege (or
 * developer mode) a guest cannot be assumed to grant, so uploads refuse
 * them there. */
char *lg_os_symlink(lg_os os, const char *target, const char *link_path);
/* A path in the guest: dir + separator + name. */
char *lg_os_path_join(lg_os os, const char *dir, const char *name);
/* Restarts the guest.  detached: return at once and reboot a moment later
 * (for a transport that would otherwise wait for the command's exit). */
const char *lg_os_reboot_command(lg_os os, bool detached);
/* Shuts the guest down and powers it off; detached as above. */
const char *lg_os_poweroff_command(lg_os os, bool detached);

/* --- Windows --------------------------------------------------------- */

/* True when s can sit inside "..." on a cmd.exe command line: no quote,
 * %, ^, &, |, <, > or control character (quoting does not neutralise them). */
bool lg_win_cmd_safe(const char *s);
/* powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass
 * -EncodedCommand BASE64(UTF-16LE(prologue + script)).  The prologue stops
 * progress records (CLIXML on stderr), makes every error terminating and
 * output UTF-8.  The script should end with an explicit `exit N`. */
char *lg_win_powershell(const char *script);
/* msiexec /i (or /x) quietly, no restart, verbose log; the exit code of
 * msiexec itself (Start-Process -Wait -PassThru).  NULL for unsafe paths. */
char *lg_win_msi_command(const char *msi_path, bool uninstall, const char *log_path);

typedef enum {
    LG_MSI_OK,              /* 0 */
    LG_MSI_OK_REBOOT_NEEDED,/* 3010: the scenario decides when to reboot */
    LG_MSI_REBOOTING,       /* 1641: the installer is restarting the guest */
    LG_MSI_RETRY,           /* 1618: another installation in progress */
    LG_MSI_NOT_INSTALLED,   /* 1605 on uninstall: nothing to remove */
    LG_MSI_BAD_PACKAGE,     /* 1619: could not be opened (upload/path) */
    LG_MSI_UNSUPPORTED,     /* 1633: not for this platform */
    LG_MSI_FAILED,          /* 1603 and anything else */
} lg_msi_outcome;
lg_msi_outcome lg_win_msi_outcome(int exit_code, bool uninstall);
const char *lg_msi_outcome_name(lg_msi_outcome outcome);

/* Prints the service's status (Running, Stopped, ...); exit 1 when there is
 * no such service.  NULL for an unsafe name. */
char *lg_win_service_status_command(const char *service);
/* The output says Running. */
bool lg_win_service_running(const char *output);

#define LG_WIN_CRASHCONTROL_COMMAND "reg query HKLM\\SYSTEM\\CurrentControlSet\\Control\\CrashControl"
typedef struct lg_win_crashcontrol {
    int crash_dump_enabled; /* 0 none, 1 complete, 2 kernel, 3 small, 7 automatic; -1 absent */
    int auto_reboot;        /* -1 absent */
} lg_win_crashcontrol;
int lg_win_crashcontrol_parse(const char *reg_output, lg_win_crashcontrol *out);
/* Why these settings would lose the evidence of a crash, or NULL when they
 * keep a kernel or complete dump and stay on the blue screen. */
const char *lg_win_crashcontrol_problem(const lg_win_crashcontrol *cc);

/* Lists C:\Windows\MEMORY.DMP and the minidumps: PATH|BYTES|MTIME lines. */
char *lg_win_list_dumps_command(void);
typedef struct lg_win_dump {
    char *path;
    uint64_t size;
} lg_win_dump;
int lg_win_dumps_parse(const char *output, lg_win_dump **dumps, size_t *n);
void lg_win_dumps_free(lg_win_dump *dumps, size_t n);

/* The last bugcheck Windows logged at boot (WER event 1001): prints its
 * time and message, nothing when there is none. */
char *lg_win_bugcheck_event_command(void);
/* "The bugcheck was: 0x00000050 (0x..., 0x..., 0x..., 0x...)" */
int lg_win_bugcheck_parse(const char *output, uint32_t *code, uint64_t params[4]);

/* --- stress (the <stress> step) -------------------------------------- */

/* How long the load itself runs for a step of `seconds`: slightly less, so
 * that the tool has stopped and reported by the time the step ends. */
int lg_stress_run_seconds(int seconds);
/* The command that loads the guest with `kind` for lg_stress_run_seconds()
 * and exits 0 when the load ran; workers 0: the kind's default.  Linux:
 * stress-ng (from the guest image) in a fresh directory under /tmp, exit
 * 127 with a message when stress-ng is missing.  Windows: PowerShell
 * (lg_win_stress_script, encoded).  Never NULL. */
char *lg_os_stress_command(lg_os os, lg_stress_kind kind, int seconds, int workers);
/* The PowerShell script behind the Windows stress command (for tests and
 * for reading): it prints what it did and ends with `exit N`. */
char *lg_win_stress_script(lg_stress_kind kind, int seconds, int workers);
/* --- network probe ---------------------------------------------------- */

/* The guest side of the guest-to-host network probe: sends the line token
 * to addr:port through the guest's own network stack, giving up after
 * timeout_s (Linux: busybox nc, detached: the command returns at once;
 * Windows: PowerShell's TcpClient).  token is [A-Za-z0-9-] only (checked:
 * NULL otherwise). */
char *lg_os_net_probe_command(lg_os os, const char *addr, int port, const char *token, int timeout_s);

/* --- Driver Verifier (policy driver-verifier, Windows) ----------------- */

/* verifier.exe for the build's drivers (file names such as sampledrv.sys):
 * "verifier /standard /driver a.sys b.sys" or "verifier /flags 0x1 /driver
 * ..." (special pool only).  Takes effect at the next boot.  NULL for
 * LG_VERIFIER_NONE, no driver, or a name that is not a plain file name. */
char *lg_win_verifier_command(lg_driver_verifier mode, char *const *drivers, size_t n);
/* What Driver Verifier is set to verify, after the reboot. */
#define LG_WIN_VERIFIER_QUERY_COMMAND "verifier /querysettings"
typedef struct lg_win_verifier_settings {
    bool special_pool;       /* "Special pool: Enabled" */
    int checks_enabled;      /* lines "<check>: Enabled", special pool among them */
    char **drivers;          /* "Verified drivers:" and the names under it, lowercased */
    size_t n_drivers;
} lg_win_verifier_settings;
/* Parses verifier /querysettings' output; -EINVAL when it is not that
 * (no "Verified drivers:" line). */
int lg_win_verifier_settings_parse(const char *output, lg_win_verifier_settings *out);
void lg_win_verifier_settings_clear(lg_win_verifier_settings *s);
/* Why the settings are not what mode asks for the drivers (a driver not
 * verified, special pool off, nothing on), or NULL when they are.  The
 * caller frees. */
char *lg_win_verifier_problem(const lg_win_verifier_settings *s, lg_driver_verifier mode, char *const *drivers,
                              size_t n);
