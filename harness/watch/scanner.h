/* Console signature scanner: fed raw serial bytes in chunks of any size, it
 * reassembles lines and recognises kernel crash reports.  Titles are
 * canonical (kind + guilty function, no addresses or numbers), so the same bug
 * gets the same title on every run and every machine.
 *
 * A report header starts its line (after the printk timestamp, caller id
 * and "<N>" level, and with terminal control sequences and bells removed):
 *
 *   line starts with                              kind in the title
 *   Kernel panic - not syncing: MSG               Kernel panic - not syncing: MSG
 *   BUG: kernel NULL pointer dereference, ...     BUG: kernel NULL pointer dereference
 *   BUG: unable to handle page fault for ...      BUG: unable to handle page fault
 *   BUG: unable to handle kernel paging request   BUG: unable to handle kernel paging request
 *   BUG: KASAN: KIND in fn+0x..                   BUG: KASAN: KIND            (function: fn)
 *   BUG: KFENCE: KIND in fn+0x..                  BUG: KFENCE: KIND           (function: fn)
 *   [watchdog: ]BUG: soft lockup - CPU#N ...      BUG: soft lockup
 *   BUG: scheduling while atomic: cat/231/0x2     BUG: scheduling while atomic
 *   BUG: OTHER ...                                BUG: OTHER, cut at ", address", " at ",
 *                                                 " - CPU#", " - pool", " on CPU#", ...
 *   UBSAN: KIND in FILE:LINE:COL                  UBSAN: KIND
 *   kernel BUG at FILE:LINE!                      kernel BUG at FILE
 *   [Oops: ]general protection fault ... [#N]     general protection fault
 *   [Oops: ]invalid opcode|double fault|divide error|stack segment|... [#N]
 *   [traps: ]PANIC: double fault                  double fault
 *   Oops: ... [#N]                                Oops
 *   WARNING: CPU: N PID: N at FILE:LINE fn+0x..   WARNING                     (function: fn)
 *   WARNING: possible circular locking ... (lockdep, a fixed list)
 *   INFO: task COMM:PID blocked for more than N seconds.   INFO: task hung
 *   [rcu: ]INFO: rcu_* [self-]detected stall(s) ...        INFO: rcu detected stall
 *   [NMI watchdog: |watchdog: ]Watchdog detected hard LOCKUP on cpu N
 *                                                 Watchdog detected hard LOCKUP
 *   Unable to handle kernel WHAT at virtual address X  (arm64)
 *                                                 Unable to handle kernel WHAT
 *   Internal error: Oops[ - BUG]: ESR [#N]        Internal error: Oops[ - BUG]
 *   Unhandled fault: WHAT (0xFSR) at 0xADDR       Unhandled fault: WHAT
 *   SError Interrupt on CPUN, ... / Bad mode in X handler detected ...  (arm64)
 *   BUG CACHE (TAINT): MSG  (SLUB debug)          BUG: MSG
 *   list_add corruption. / list_del corruption.   BUG: corrupted list
 *   usercopy: Kernel memory exposure attempt ...  BUG: bad usercopy
 *   refcount_t: underflow; use-after-free.        refcount_t: underflow; use-after-free
 *   ODEBUG: free active (active state 0) ...      ODEBUG: free active
 *   lockdep: WARNING: possible recursive locking detected, inconsistent lock
 *   state, held lock freed!, bad unlock balance detected!, lock held when
 *   returning to user space!, X still has locks held!, suspicious RCU usage
 *   ([ INFO: ... ] on 4.x kernels), INFO: trying to register non-static key
 *   INFO: task COMM:PID can't die for more ...    INFO: task can't die
 *   VFS: Busy inodes after unmount ...            VFS: Busy inodes after unmount
 *   unregister_netdevice: waiting for DEV ...     unregister_netdevice: waiting for device to become free
 *   [kmemleak: ]unreferenced object 0x.. (size N): / kmemleak: N new suspected memory leaks
 *                                                 memory leak
 *   COMM invoked oom-killer: / Out of memory: Killed process N (COMM) /
 *   Kernel panic - not syncing: System is deadlocked on memory
 *                                                 OOM; title "OOM in FUNCTION: killed COMM"
 *   Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: fn+0x..
 *                                                 stack-protector: Kernel stack is corrupted
 *
 * The skip rules for the guilty function are in frames.h.  A frame of an
 * out-of-tree module (the report says "Tainted: ... O", E or P, or
 * "Modules linked in: mod(O)") wins over an earlier kernel frame.  Lockdep
 * reports are named by the lock's "at: fn" line, kmemleak by the
 * allocation backtrace, stalls and soft lockups by the frame above where
 * the work entered (a syscall's "sys_X", a file operation, a work item),
 * hung tasks waiting on rtnl_lock or an RCU grace period by that wait.
 *
 * and the title is "KIND in FUNCTION" once the guilty function is known:
 * the header's own "fn+0x" when it names one, else the first of the report's
 * RIP:/EIP:/IP:/pc :/PC is at register lines, else the first frame after
 * "Call Trace:" -- skipping, everywhere, frames that report, trap, sleep or
 * lock for the code that went wrong (dump_stack*, panic, __warn, report_bug,
 * exc_*, page_fault_oops, kasan_*, __ubsan_handle_*, printk, lockdep,
 * schedule*, mutex_lock*, _raw_spin_*, ...), "? " guesses, and for stall
 * reports the <IRQ>/<NMI> frames of the timer that noticed.  Compiler
 * suffixes go (".cold", ".isra.0", ".constprop.0").  Numbers, addresses,
 * "[...]" tokens, tasks with pids ("cat/231", "cat:231"), "CPU#N" and
 * "name=NUMBER" go from the kind.
 *
 * Windows (EMS/SAC on the serial port) gives "BSOD 0xCODE NAME[ in
 * driver.sys]" (see stopcodes.h), from the bluescreen block EMS sends at a
 * bugcheck (a "<BP>" line, <INSTANCE CLASSNAME="BLUESCREEN">, and
 * <PROPERTY NAME="STOPCODE" TYPE="string"><VALUE>"0x50"</VALUE></PROPERTY>),
 * from "*** STOP: 0x00000050 (...)", from a bugcheck name alone on its line,
 * or from "Stop code: NAME"; the driver from "The problem seems to be caused
 * by the following file: X", "***  X - Address ...", "What failed: X" or any
 * "*.sys" in the report.  Only the first report decides. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

typedef struct lg_scanner lg_scanner;

/* Called for every complete line: `line` without its printk timestamp and
 * terminal control characters, `stamped` with the timestamp kept. */
typedef void (*lg_scanner_line_fn)(void *opaque, const char *stamped, const char *line, size_t line_no);

lg_scanner *lg_scanner_new(void);
void lg_scanner_free(lg_scanner *sc);
void lg_scanner_set_line_fn(lg_scanner *sc, lg_scanner_line_fn fn, void *opaque);
/* Returns true when this chunk produced the first hit or refined its title. */
bool lg_scanner_feed(lg_scanner *sc, const char *data, size_t len);
/* Scans a last line that has no newline (end of a saved log); a log that
 * ends inside a bluescreen block counts as a "BSOD" hit. */
bool lg_scanner_finish(lg_scanner *sc);

bool lg_scanner_hit(const lg_scanner *sc);
/* Title of the first crash report, or NULL. */
const char *lg_scanner_title(const lg_scanner *sc);
/* True once the title names the guilty function (Windows: the driver). */
bool lg_scanner_title_specific(const lg_scanner *sc);
/* 1-based line number where the first report starts (0 if none). */
size_t lg_scanner_hit_line(const lg_scanner *sc);

/* The first report's canonical kind ("BUG: KASAN: slab-out-of-bounds",
 * "WARNING", "OOM", "memory leak", "BSOD", ...), or NULL. */
const char *lg_scanner_kind(const lg_scanner *sc);
/* The guilty function (Linux) or driver (Windows), or NULL. */
const char *lg_scanner_function(const lg_scanner *sc);
/* An OOM report: the process the OOM killer killed (its comm, cleaned,
 * at most 64 bytes), or NULL. */
const char *lg_scanner_oom_killed(const lg_scanner *sc);

/* A report the kernel prints and carries on after (a WARNING of any kind,
 * lockdep's among them, and kmemleak's leaks), as opposed to one that
 * ends the kernel or the task (oops, BUG, panic, sanitizer reports): a
 * policy may take these as findings rather than crashes. */
bool lg_scanner_kind_is_warning(const char *kind);
/* The kind of a leak detector's report (kmemleak). */
#define LG_SCANNER_KIND_LEAK "memory leak"
/* The current report was taken as a finding, not a crash: the next report
 * header starts a new report in its place (the scan reports a change). */
void lg_scanner_replaceable(lg_scanner *sc);

/* Canonical title for one report (a new string, never NULL): exposed for
 * tests. */
char *lg_scanner_canonical_title(const char *kind, const char *function);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_scanner, lg_scanner_free)
