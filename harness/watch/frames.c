#include "frames.h"

#include <string.h>

#include "base/cleanup.h"

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Names that start with one of these are machinery. */
static const char *const HELPER_PREFIXES[] = {
    /* stack dumping, printing, reporting */
    "dump_stack", "__dump_stack", "show_stack", "show_trace", "show_regs", "__show_regs",
    "dump_backtrace", "__warn", "warn_slowpath", "report_bug", "__report_bug", "__die", "printk", "_printk",
    "__printk", "vprintk", "console_", "nmi_", "__pfx_", "print_", "__print_", "stack_trace_",
    "check_panic_on_warn",
    /* traps and exception entry */
    "exc_", "asm_exc_", "asm_sysvec_", "sysvec_", "__sysvec_", "asm_common_interrupt", "el1h_64_", "el1_",
    "el0t_64_", "el0_svc", "el0_da", "el0_ia", "el0_sync", "entry_SYSCALL", "entry_SYSENTER", "entry_INT80",
    "do_syscall_", "__do_fast_syscall", "do_fast_syscall", "do_int80", "handle_exception", "ret_from_fork",
    "ret_from_exception", "do_el0_svc", "invoke_syscall", "do_error_trap", "do_trap",
    /* sanitizer runtimes */
    "__kasan", "kasan_", "__asan_", "asan_", "__hwasan", "hwasan_", "__ubsan_handle", "ubsan_", "__kfence",
    "kfence_", "kmsan_", "__msan_", "__kmsan", "kcsan_", "__kcsan", "__tsan_", "check_memory_region",
    "__sanitizer", "check_heap_object", "__check_heap_object", "__check_object_size", "check_object_size",
    "usercopy_", "__usercopy", "check_stack_object", "check_bogus_address", "check_page_span",
    "memory_is_poisoned", "quarantine_", "qlist_", "qlink_",
    /* lockdep, locks and waiting */
    "lockdep_", "__lockdep", "lock_acquire", "lock_release", "lock_acquired", "lock_contended",
    "lock_is_held", "__lock_", "lock_sync", "_raw_", "do_raw_", "raw_spin_", "queued_", "native_queued_",
    "__pv_queued_", "pv_queued_", "mutex_lock", "__mutex_lock", "mutex_unlock", "__mutex_unlock",
    "mutex_trylock", "ww_mutex_", "__ww_mutex", "down_", "__down", "up_read", "up_write", "__up_read",
    "__up_write", "rwsem_", "__rwsem", "percpu_down_", "percpu_up_", "__percpu_down", "__percpu_up",
    "spin_lock", "spin_unlock", "rt_spin_", "rt_mutex_", "__rt_mutex", "rtlock_", "wait_for_completion",
    "__wait_for_completion", "schedule_timeout", "schedule_hrtimeout", "usleep_range", "debug_lockdep",
    "check_prev_add", "check_prevs_add", "validate_chain", "check_noncircular", "check_irq_usage",
    "check_deadlock", "mark_lock", "mark_usage", "mark_held_locks", "reacquire_held_locks", "register_lock_class",
    "assign_lock_key", "look_up_lock_class", "lockdep_init_map", "debug_check_no_locks", "lock_class",
    "lock_downgrade", "lock_pin_lock", "lock_unpin_lock", "lock_repin_lock", "find_held_lock",
    "debug_locks_off", "rcu_lock_", "rcu_read_lock", "rcu_read_unlock", "__rcu_read_",
    /* allocators and free paths */
    "kmalloc", "__kmalloc", "kmem_cache_", "__kmem_cache_", "kvfree", "kvmalloc",
    "__kvmalloc", "kzalloc", "kvzalloc", "kcalloc", "kvcalloc", "krealloc", "kvrealloc", "__krealloc",
    "kmemdup", "kstrdup", "kstrndup", "kmemleak_", "__kmemleak", "slab_", "__slab_", "___slab_",
    "slab_free", "slab_alloc", "___cache_free", "__cache_free", "cache_alloc", "new_slab", "allocate_slab",
    "alloc_slab_", "free_debug_processing", "alloc_debug_processing", "check_object", "check_bytes_and_report",
    "check_slab", "on_freelist", "object_err", "slab_err", "free_consistency_checks",
    "alloc_consistency_checks", "free_to_partial_list", "do_slab_free", "set_track", "init_object",
    "vmalloc", "__vmalloc", "vzalloc", "vfree", "__vfree", "vmap", "__vmap", "vunmap", "alloc_pages",
    "__alloc_pages", "alloc_page", "__get_free_pages", "get_zeroed_page", "free_pages", "__free_pages",
    "free_page", "__free_page", "free_unref_page", "free_pcp", "__folio_alloc", "folio_alloc",
    "vma_alloc_folio", "alloc_pages_vma", "get_page_from_freelist", "rmqueue", "prep_new_page",
    "post_alloc_hook", "mempool_alloc", "mempool_free", "kmem_", "___kmalloc", "__do_kmalloc",
    "kmalloc_", "__kmalloc_", "setup_object", "shuffle_freelist", "memcg_slab_", "__memcg_slab_",
    "obj_cgroup_", "should_fail", "__should_fail", "should_failslab", "__should_failslab", "fail_dump",
    "might_alloc", "fs_reclaim_", "__fs_reclaim",
    /* string and memory helpers */
    "memcpy", "__memcpy", "memset", "__memset", "memmove", "__memmove", "memcmp", "__memcmp", "memchr",
    "memscan", "bcmp", "strlen", "strnlen", "strcpy", "strncpy", "strlcpy", "strscpy", "strcat", "strncat",
    "strlcat", "strcmp", "strncmp", "strcasecmp", "strncasecmp", "strchr", "strrchr", "strnchr", "strstr",
    "strnstr", "strsep", "strspn", "strcspn", "strpbrk", "strim", "strreplace", "strndup_user", "strncpy_from_user",
    "strnlen_user", "__strncpy_from_user", "__strnlen_user", "__str", "sized_strscpy", "copy_from_user", "_copy_from_user", "__copy_from_user",
    "copy_to_user", "_copy_to_user", "__copy_to_user", "raw_copy_", "copy_user_", "__copy_user",
    "rep_movs_alternative", "rep_stos_alternative", "clear_user", "__clear_user", "copy_from_kernel_nofault",
    "copy_to_kernel_nofault", "__get_user", "__put_user", "get_user", "put_user", "memdup_user", "vmemdup_user",
    "memdup_", "fortify_", "__fortify", "csum_partial_copy", "_copy_from_iter", "_copy_to_iter",
    "copy_from_iter", "copy_to_iter", "copyin", "copyout", "__arch_copy_", "__memcpy_", "memcpy_",
    "memset_", "__memset_", "simple_read_from_buffer", "simple_write_to_buffer",
    /* list, refcount, debug objects checks */
    "__list_add_valid", "__list_del_entry_valid", "__list_add_report", "__list_del_entry_report",
    "refcount_", "__refcount_",
    "debug_object", "debug_print_object", "__debug_object", "debug_check_no_obj_freed",
    "__debug_check_no_obj_freed", "debug_timer_", "debug_work_", "debug_hrtimer_", "debug_rt_mutex",
    "timer_fixup_", "work_fixup_", "hrtimer_fixup_", "check_preemption_disabled",
    "debug_smp_processor_id", "__this_cpu_preempt_check", "__might_", "___might_", "might_",
    "__cant_", "__schedule_bug", "preempt_count_", 
    /* timers, softirqs, workqueues, threads: trampolines */
    "call_timer_fn", "__run_timers", "run_timer_softirq", "__run_timer_base", "run_timer_base",
    "__do_softirq", "do_softirq", "handle_softirqs", "irq_exit", "__irq_exit", "invoke_softirq",
    "__hrtimer_run_queues", "hrtimer_interrupt", "__run_hrtimer", "hrtimer_run_", "local_apic_timer",
    "tick_", "update_process_times", "process_one_work", "worker_thread", "kthread", "smpboot_thread_fn",
    "rcu_core", "rcu_do_batch", "rcu_nocb_", "rcu_gp_kthread", "irq_thread", "call_on_irqstack",
    "call_on_stack", "run_on_irqstack", "do_irq_", "irq_enter", "generic_handle_",
    "handle_irq", "handle_edge_irq", "handle_level_irq", "handle_fasteoi_irq", "common_interrupt",
    "__common_interrupt", "gic_handle_irq", "el1_interrupt", "el0_interrupt", "call_rcu",
    /* sleeping and scheduling */
    "__schedule", "schedule_preempt_disabled", "io_schedule", "preempt_schedule", "__cond_resched",
    "msleep", "do_nanosleep", "hrtimer_nanosleep", "__wait_event", "wait_woken", "prepare_to_wait",
    "finish_wait", "do_wait_for_common", "__wait_for_common", "wait_for_common", "bit_wait",
    "out_of_line_wait_on_bit", "__wait_on_bit", "wait_on_page_bit", "folio_wait_bit",
    /* oops, panic, page-fault and arm64 trap handling */
    "page_fault_oops", "kernelmode_fixup_or_oops", "__bad_area", "bad_area", "do_user_addr_fault",
    "do_kern_addr_fault", "handle_page_fault", "__do_page_fault", "do_page_fault", "oops_", "die_",
    "__do_kernel_fault", "do_bad_area", "do_translation_fault", "do_mem_abort", "do_undefinstr",
    "do_el0_", "do_el1_", "bug_handler", "call_break_hook", "brk_handler", "do_debug_exception",
    "arm64_notify_die", "show_pte", "do_sp_pc_abort", "do_alignment_fault", "do_bti",
    "__stack_chk_fail", "stack_chk_fail", "__ubsan", "handle_bug", "do_int3", "fixup_exception",
    "do_general_protection", "do_invalid_op", "math_error", "handle_stack_overflow", "do_divide_error",
    "invalid_op", "kasan_report", "end_report", "start_report", "describe_object", "complete_report",
    "kmsan_report", "kfence_report", "__stack_depot", "stack_depot_", "save_stack", "__save_stack",
    "arch_stack_walk", "unwind_", "__unwind", "__traceiter_", "perf_trace_",
};

/* Names that are machinery only when equal. */
static const char *const HELPER_NAMES[] = {
    "panic", "vpanic", "die", "die_addr", "do_exit", "make_task_dead", "rewind_stack_and_make_dead",
    "rewind_stack_do_exit", "page_fault", "general_protection", "invalid_op", "error_entry",
    "__schedule", "schedule", "down", "up", "bug", "__bug", "BUG", "warn_bogus_irq_restore",
    "lock", "unlock", "kobject_put", "kfree", "__kfree", "kvfree", "kfree_sensitive", "kvfree_call_rcu",
    "kfree_const", "copy_page", "fixup_exception", "fixup_bug", "trace_hardirqs_on", "trace_hardirqs_off", "kobject_release", "pagefault_out_of_memory",
    "memcmp", "memchr_inv", "sprintf", "snprintf", "vsnprintf", "vsprintf", "scnprintf", "vscnprintf",
    "list_add", "list_add_tail", "list_add_rcu", "list_add_tail_rcu", "__list_add", "list_del", "__list_del",
    "list_del_init", "list_del_rcu", "__list_del_entry", "list_move", "list_move_tail", "list_replace",
    "hlist_add_head", "hlist_add_head_rcu", "hlist_del", "hlist_del_init", "hlist_del_rcu", "__hlist_del",
    "__do_softirq", "__irq_exit_rcu", "sysvec_apic_timer_interrupt", "apic_timer_interrupt",
    "smp_apic_timer_interrupt", "kasan_check_range", "check_region_inline", "__might_fault",
    "might_fault", "preempt_schedule_common", "rcu_read_lock_held", "rcu_read_lock_sched_held",
    "lockdep_rcu_suspicious", "mutex_remove_waiter", "dump_header", "oom_kill_process",
    "out_of_memory", "__alloc_pages_slowpath", "__alloc_pages_may_oom", "__alloc_pages_nodemask",
};

/* Names that contain one of these anywhere are machinery: the words crash
 * trackers skip when they name a bug (a frame containing "kasan", "lockdep",
 * "spin_lock", "mutex_lock", "memcpy", "list_del", "printk", ...). */
static const char *const HELPER_WORDS[] = {
    "__sanitizer", "__asan", "kasan", "__msan", "kmsan", "check_memory_region", "read_word_at_a_time",
    "print_address_description", "panic", "invalid_op", "report_bug", "fixup_bug", "do_error", "_trap",
    "dump_stack", "warn_slowpath", "warn_alloc", "__warn", "debug_object", "timer_is_static_object",
    "work_is_static_object", "lockdep", "perf_trace", "lock_acquire", "lock_release", "lock_class",
    "reacquire_held_locks", "spin_lock", "spin_trylock", "spin_unlock", "raw_read_lock", "raw_read_trylock",
    "raw_write_lock", "raw_write_trylock", "down_read", "down_write", "up_read", "up_write", "mutex_lock",
    "mutex_trylock", "mutex_unlock", "mutex_remove_waiter", "osq_lock", "osq_unlock", "__wake_up",
    "refcount_add", "refcount_sub", "refcount_inc", "refcount_dec", "refcount_set", "refcount_read",
    "memcpy", "memcmp", "memset", "memchr", "memmove", "strcmp", "strncmp", "strcpy", "strlcpy", "strncpy",
    "strscpy", "strlen", "strnstr", "strnlen", "strchr", "copy_to_user", "copy_from_user", "put_user",
    "get_user", "might_fault", "might_sleep", "list_add", "list_del", "list_replace", "list_move",
    "list_splice", "_indirect_thunk_", "printk", "snprintf", "scnprintf", "kasprintf", "kvasprintf",
    "ubsan", "kfence", "kcsan",
};

bool lg_frame_is_helper(const char *fn)
{
    for (size_t i = 0; i < LG_N_ELEMENTS(HELPER_WORDS); i++)
        if (strstr(fn, HELPER_WORDS[i]))
            return true;
    for (size_t i = 0; i < LG_N_ELEMENTS(HELPER_NAMES); i++)
        if (strcmp(fn, HELPER_NAMES[i]) == 0)
            return true;
    for (size_t i = 0; i < LG_N_ELEMENTS(HELPER_PREFIXES); i++)
        if (starts_with(fn, HELPER_PREFIXES[i]))
            return true;
    return false;
}

static const char *const ALLOC_PATH_PREFIXES[] = {
    "handle_mm_fault", "__handle_mm_fault", "handle_pte_fault", "do_anonymous_page", "do_fault",
    "do_read_fault", "do_cow_fault", "do_shared_fault", "do_swap_page", "do_wp_page", "wp_page_copy",
    "__do_fault", "filemap_fault", "__filemap_get_folio", "pagecache_get_page", "page_cache_ra",
    "page_cache_sync_ra", "page_cache_async_ra", "ondemand_readahead", "read_pages", "filemap_",
    "alloc_pages_mpol", "__alloc_pages_", "alloc_pages_", "__pte_alloc", "pte_alloc", "__pmd_alloc",
    "__pud_alloc", "pte_alloc_one", "__get_free_page", "folio_alloc", "__folio_alloc", "vma_alloc_folio",
    "alloc_anon_folio", "__vmalloc_", "vmalloc_", "__alloc_skb", "alloc_skb", "__netdev_alloc_skb",
    "sock_alloc_send", "__page_cache_alloc", "mem_cgroup_", "try_charge", "charge_memcg", "__memcg_kmem_",
    "obj_cgroup_charge", "pagefault_out_of_memory", "mm_fault_error", "do_user_addr_fault",
    "populate_vma_page_range", "__mm_populate", "__get_user_pages", "faultin_page", "get_user_pages",
};

bool lg_frame_is_alloc_path(const char *fn)
{
    if (lg_frame_is_helper(fn))
        return true;
    for (size_t i = 0; i < LG_N_ELEMENTS(ALLOC_PATH_PREFIXES); i++)
        if (starts_with(fn, ALLOC_PATH_PREFIXES[i]))
            return true;
    return false;
}

bool lg_frame_contains_any(const char *fn, const char *const *words)
{
    for (size_t i = 0; words && words[i]; i++)
        if (strstr(fn, words[i]))
            return true;
    return false;
}

/* Stalls and lockups: the stack loops anywhere inside the stuck code, so
 * the frame just above where work enters (a syscall, a file operation, a
 * work item, a timer, a kthread) names the bug, not the top frame. */
static const char *const STALL_ANCHORS[] = {
    "process_one_work", "do_syscall_", "do_fast_syscall_", "sysenter_dispatch", "tracesys_phase2",
    "netif_receive_skb", "do_softirq", "call_timer_fn", "_run_timers", "run_timer_softirq", "run_ksoftirqd",
    "smpboot_thread_fn", "kthread", "start_secondary", "cpu_startup_entry", "ret_from_fork", "vfs_write",
    "vfs_read", "vfs_iter_read", "vfs_iter_write", "do_iter_read", "do_iter_write", "vfs_ioctl",
    "blkdev_driver_ioctl", "blkdev_ioctl", "do_iter_readv_writev", "mmap_region", "do_mmap", "do_dentry_open",
    "vfs_open", "__sys_setsockopt", "kernel_setsockopt", "sock_common_setsockopt", "__sys_listen",
    "kernel_listen", "sk_common_release", "__sys_accept", "kernel_accept", "__do_fault", "handle_mm_fault",
    "do_page_fault", "__fput", "task_work_run", "exit_to_usermode", "exit_to_user_mode", "el0_svc",
    "invoke_syscall",
};

/* anchors that must start the name */
static const char *const STALL_ANCHOR_PREFIXES[] = {
    "call_read_iter", "call_write_iter", "call_mmap", "sock_sendmsg", "sock_recvmsg", "sock_release",
    "__sock_release", "sock_mmap", "sock_do_ioctl", "sock_ioctl", "compat_sock_ioctl", "nfnetlink_rcv_msg",
};

bool lg_frame_is_stall_anchor(const char *fn)
{
    for (size_t i = 0; i < LG_N_ELEMENTS(STALL_ANCHORS); i++)
        if (strstr(fn, STALL_ANCHORS[i]))
            return true;
    for (size_t i = 0; i < LG_N_ELEMENTS(STALL_ANCHOR_PREFIXES); i++)
        if (starts_with(fn, STALL_ANCHOR_PREFIXES[i]))
            return true;
    if (strcmp(fn, "page_fault") == 0)
        return true;
    /* the syscalls whose entry says little: their callee names the protocol or device */
    static const char *const sys_prefixes[] = { "SYSC_", "SyS_", "__sys_", "___sys_", "__do_sys_", "__se_sys_",
                                                "__x64_sys_", "compat_SYSC_", "compat_SyS_" };
    static const char *const vague[] = { "socketpair", "connect", "ioctl" };
    for (size_t i = 0; i < LG_N_ELEMENTS(sys_prefixes); i++) {
        if (!starts_with(fn, sys_prefixes[i]))
            continue;
        for (size_t k = 0; k < LG_N_ELEMENTS(vague); k++)
            if (starts_with(fn + strlen(sys_prefixes[i]), vague[k]))
                return true;
    }
    return false;
}

/* Hung tasks: waiting on rtnl_lock or an RCU grace period is the bug's
 * identity wherever the wait happens. */
const char *lg_frame_hung_anchor(const char *fn)
{
    if (starts_with(fn, "rtnl_lock"))
        return "rtnl_lock";
    static const char *const rcu[] = { "synchronize_rcu", "synchronize_srcu", "synchronize_net",
                                       "synchronize_sched" };
    for (size_t i = 0; i < LG_N_ELEMENTS(rcu); i++)
        if (starts_with(fn, rcu[i]))
            return "synchronize_rcu";
    return NULL;
}

/* Kernel functions that crash trackers also step over when they name a
 * bug: generic device, workqueue, USB and printing code that a driver's
 * bug passes through.  Words, matched anywhere in the name. */
static const char *const KERNEL_WORDS[] = {
    "__wake_up", "del_timer", "flush_work", "__cancel_work_timer", "cancel_work_sync", "try_to_grab_pending",
    "flush_workqueue", "drain_workqueue", "destroy_workqueue", "finish_wait", "kthread_stop", "kobject_del",
    "kobject_put", "kobject_uevent_env", "add_uevent_var", "get_device_parent", "device_add", "device_del",
    "device_unregister", "device_destroy", "hwrng_unregister", "i2c_del_adapter", "__unregister_client",
    "device_for_each_child", "rollback_registered", "unregister_netdev", "sysfs_remove", "device_remove_file",
    "tty_unregister_device", "dummy_urb_enqueue", "usb_kill_urb", "usb_kill_anchored_urbs", "usb_control_msg",
    "usb_hcd_submit_urb", "usb_submit_urb", "usb_start_wait_urb", "usb_bulk_msg", "usb_interrupt_msg", "string", "pointer", "dev_info", "dev_notice", "dev_warn", "dev_err",
    "dev_alert", "dev_crit", "dev_emerg", "program_check_exception", "program_check_common",
};

bool lg_frame_is_kernel_helper(const char *fn)
{
    for (size_t i = 0; i < LG_N_ELEMENTS(KERNEL_WORDS); i++)
        if (strstr(fn, KERNEL_WORDS[i]))
            return true;
    return false;
}
