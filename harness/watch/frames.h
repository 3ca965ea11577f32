/* Which call-trace frames are machinery rather than the guilty code.
 *
 * A kernel report's stack starts in the code that reports (dump_stack,
 * __warn, kasan_report, ...), traps (exc_page_fault, do_trap, ...), checks
 * (__list_add_valid, refcount_warn_saturate, __check_object_size,
 * debug_print_object, ...), locks or sleeps (lock_acquire, mutex_lock,
 * schedule, ...), allocates or frees (kmalloc, kfree, ...) or copies
 * (memcpy, strlen, copy_to_user, ...) on behalf of the caller, and ends in
 * trampolines (kthread, process_one_work, call_timer_fn, do_syscall_64,
 * ...).  The guilty function is the first frame that is none of these; the
 * report's own "in FUNC" is skipped the same way when it names such a
 * helper ("BUG: KASAN: slab-out-of-bounds in memcpy"). */
#pragma once
#include <stdbool.h>

/* fn: a function name without offset or compiler suffix. */
bool lg_frame_is_helper(const char *fn);

/* The kernel's own generic code a driver's bug passes through (device
 * and workqueue teardown, USB submission, printing helpers): machinery when
 * the frame is the kernel's, not when it is a module's. */
bool lg_frame_is_kernel_helper(const char *fn);

/* Frames that allocate memory on behalf of a caller, and the page-fault
 * path: skipped when looking for what made the OOM killer run. */
bool lg_frame_is_alloc_path(const char *fn);

/* Does fn contain one of the NULL-terminated words (a report family's own
 * skip list: kmemleak skips every "alloc", ODEBUG every "timer_", ...)? */
bool lg_frame_contains_any(const char *fn, const char *const *words);

/* A stall's anchor: where work enters (do_syscall_64, vfs_write,
 * process_one_work, call_timer_fn, kthread, ...); the frame above it names
 * a stall or lockup. */
bool lg_frame_is_stall_anchor(const char *fn);

/* A hung task's anchor: "rtnl_lock" or "synchronize_rcu" (for every RCU
 * grace-period wait), or NULL. */
const char *lg_frame_hung_anchor(const char *fn);
