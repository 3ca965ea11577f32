#include "scanner.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"
#include "stopcodes.h"

#define MAX_LINE 4096
/* A report names its function within a few dozen lines of its header. */
#define REPORT_WINDOW_LINES 80
/* EMS sends "<BP>", "<INSTANCE CLASSNAME="BLUESCREEN">" and the STOPCODE
 * property on consecutive lines; a bluescreen block that names no stop code
 * within this many lines is reported without one. */
#define BSOD_PENDING_LINES 10
/* The XP-style stop screen names the driver a few lines before the stop code. */
#define BSOD_DRIVER_LOOKBACK_LINES 30

struct lg_scanner {
    char line[MAX_LINE + 1];
    size_t line_len;
    bool line_truncated;
    bool after_cr; /* the last line ended in CR: a LF right after it is the same line end */
    size_t line_no;

    bool hit;
    size_t hit_line;
    char *kind;     /* e.g. "BUG: kernel NULL pointer dereference" */
    char *function; /* guilty function (Linux) or driver (Windows), once seen */
    char *title;

    /* Linux: the report's call trace */
    bool stall;     /* printed from a timer interrupt or NMI: its <IRQ>/<NMI> frames are the reporter */
    bool in_trace;
    int irq_depth;

    /* Windows */
    bool bsod;
    bool bsod_has_code;
    uint32_t bsod_code;
    size_t bsod_start_line; /* "<BP>" seen here, stop code not yet */
    char *recent_driver;    /* named by a stop screen before any stop code */
    size_t recent_driver_line;

    lg_scanner_line_fn line_fn;
    void *line_opaque;
};

lg_scanner *lg_scanner_new(void)
{
    return LG_NEW0(lg_scanner);
}

void lg_scanner_free(lg_scanner *sc)
{
    if (!sc)
        return;
    free(sc->kind);
    free(sc->function);
    free(sc->title);
    free(sc->recent_driver);
    free(sc);
}

void lg_scanner_set_line_fn(lg_scanner *sc, lg_scanner_line_fn fn, void *opaque)
{
    sc->line_fn = fn;
    sc->line_opaque = opaque;
}

bool lg_scanner_hit(const lg_scanner *sc) { return sc->hit; }
const char *lg_scanner_title(const lg_scanner *sc) { return sc->title; }
bool lg_scanner_title_specific(const lg_scanner *sc) { return sc->function != NULL; }
size_t lg_scanner_hit_line(const lg_scanner *sc) { return sc->hit_line; }

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ------------------------------------------------------------ line text */

/* Removes terminal control sequences and control characters in place: EMS
 * rings the bell around its bluescreen block ("\a\a\a<?xml>\a<BP>") and
 * draws its screens with VT100 colour and cursor sequences. */
static void drop_controls(char *s)
{
    char *out = s;
    for (const char *p = s; *p;) {
        unsigned char c = (unsigned char)*p;
        if (c == 0x1b) {
            p++;
            if (*p == '[') { /* CSI: parameters and intermediates, then one final byte */
                p++;
                while (*p && (unsigned char)*p >= 0x20 && (unsigned char)*p <= 0x3f)
                    p++;
                if (*p)
                    p++;
            } else if (*p) {
                p++;
            }
            continue;
        }
        if (c < 0x20 && c != '\t') {
            p++;
            continue;
        }
        *out++ = *p++;
    }
    *out = '\0';
}

/* Drops "[   12.345678] " and "<4>" prefixes (and a printk caller id such
 * as "[    T1]" or "[    C0]"). */
static const char *strip_prefix(const char *s)
{
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '<') {
            size_t digits = strspn(s + 1, "0123456789");
            if (digits >= 1 && digits <= 3 && s[1 + digits] == '>') {
                s += digits + 2;
                continue;
            }
        }
        if (*s == '[') {
            const char *end = strchr(s, ']');
            bool stamp = end && end - s < 24;
            for (const char *p = s + 1; stamp && p < end; p++)
                stamp = isdigit((unsigned char)*p) || *p == '.' || *p == ' ' || *p == 'T' || *p == 'C';
            if (stamp) {
                s = end + 1;
                continue;
            }
        }
        return s;
    }
}

/* ------------------------------------------------------ canonical titles */

/* A token that is a number or an address: "0002", "0x2a", "ffffc90000a3d000",
 * "12345," (but not words made of hex letters such as "dead", nor "x86"). */
static bool is_number_token(const char *tok, size_t len)
{
    while (len && strchr(",:;.!)", tok[len - 1]))
        len--;
    size_t i = len > 2 && tok[0] == '0' && tok[1] == 'x' ? 2 : 0;
    bool digit = i == 2;
    if (i == len)
        return false;
    for (; i < len; i++) {
        if (!isxdigit((unsigned char)tok[i]))
            return false;
        digit = digit || isdigit((unsigned char)tok[i]);
    }
    return digit;
}

/* Tokens that name one run rather than the bug: "exitcode=0x0000000b",
 * "CPU#0", and tasks with their pid ("cat/231/0x00000002", "cat:231",
 * "kworker/0:1") -- but not file names ("mm/slub.c", "fs/9p/vfs_file.c"). */
static bool is_run_token(const char *tok, size_t len)
{
    const char *eq = memchr(tok, '=', len);
    if (eq && eq > tok && is_number_token(eq + 1, len - (size_t)(eq + 1 - tok)))
        return true;
    const char *hash = memchr(tok, '#', len);
    if (hash && hash + 1 < tok + len && isdigit((unsigned char)hash[1]))
        return true;
    if (memchr(tok, '.', len))
        return false;
    for (size_t i = 1; i + 1 < len; i++)
        if ((tok[i] == '/' || tok[i] == ':') && isdigit((unsigned char)tok[i + 1]))
            return true;
    return false;
}

/* Drops numbers, addresses, per-run tokens and bracketed counters ("[#1]",
 * "[sampledrv]", "[cat:123]"), collapses blanks and trailing punctuation, so
 * only the words that identify the kind of failure remain. */
static char *strip_variable(const char *s)
{
    lg_buf out = LG_BUF_INIT;
    for (const char *p = s; *p;) {
        p += strspn(p, " \t");
        size_t len = strcspn(p, " \t");
        if (len == 0)
            break;
        bool bracketed = p[0] == '[' && p[len - 1] == ']';
        if (!bracketed && !is_number_token(p, len) && !is_run_token(p, len)) {
            if (out.len)
                lg_buf_append(&out, " ", 1);
            lg_buf_append(&out, p, len);
        }
        p += len;
    }
    while (out.len && strchr(" :,;-", out.data[out.len - 1]))
        out.data[--out.len] = '\0';
    return lg_buf_steal(&out);
}

char *lg_scanner_canonical_title(const char *kind, const char *function)
{
    LG_AUTOFREE char *k = strip_variable(kind);
    if (function && *function)
        return lg_strdup_printf("%s in %s", k, function);
    return lg_strdup(k);
}

/* --------------------------------------------------------- Linux symbols */

static bool is_symbol_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '$';
}

/* "sampledrv_parse_record+0x1b/0x80 [sampledrv]" at p: the function name
 * without compiler suffixes (".cold", ".isra.0", ".constprop.0" vary
 * between builds of the same source), or NULL. */
static char *parse_symbol(const char *p, const char **end)
{
    size_t n = 0;
    while (is_symbol_char(p[n]))
        n++;
    if (n == 0 || !starts_with(p + n, "+0x") || isdigit((unsigned char)p[0]))
        return NULL;
    size_t name_len = strcspn(p, ".+");
    if (name_len == 0)
        return NULL;
    if (end)
        *end = p + n;
    return lg_strndup(p, name_len);
}

/* Frames that report, trap, sleep or lock on behalf of the code that went
 * wrong: the guilty function is the first frame that is none of these. */
static const char *const HELPER_PREFIXES[] = {
    "dump_stack", "__dump_stack", "show_stack", "show_trace", "show_regs", "__show_regs",
    "dump_backtrace", "__warn", "warn_slowpath", "report_bug", "__report_bug", "__die", "exc_",
    "asm_exc_", "asm_sysvec_", "sysvec_", "__sysvec_", "asm_common_interrupt",
    "printk", "_printk", "__printk", "vprintk", "console_", "__kasan", "kasan_", "__asan_",
    "__hwasan", "__ubsan_handle", "ubsan_", "__kfence", "kfence_", "lockdep_", "__lockdep",
    "nmi_", "__pfx_", "_raw_", "do_raw_", "queued_", "native_queued_", "__pv_queued_",
    "mutex_lock", "__mutex_lock", "down_", "__down", "rwsem_down", "wait_for_completion",
    "schedule_timeout", "schedule_hrtimeout", "usleep_range", "el1h_64_", "el1_",
};

static const char *const HELPER_NAMES[] = {
    /* oops and trap machinery */
    "panic", "vpanic", "die", "die_addr", "do_trap", "do_error_trap", "handle_bug",
    "page_fault_oops", "kernelmode_fixup_or_oops", "__bad_area_nosemaphore", "bad_area_nosemaphore",
    "__bad_area", "bad_area", "bad_area_access_error", "do_user_addr_fault", "do_kern_addr_fault",
    "handle_page_fault", "no_context", "__do_page_fault", "do_page_fault", "oops_begin", "oops_end",
    "fixup_exception", "do_int3", "do_general_protection", "do_invalid_op", "math_error",
    "handle_stack_overflow", "print_report", "print_address_description", "check_panic_on_warn",
    "fortify_panic", "__fortify_panic", "__fortify_report", "__stack_chk_fail",
    /* arm64 */
    "arm64_notify_die", "die_kernel_fault", "__do_kernel_fault", "do_bad_area", "do_translation_fault",
    "do_mem_abort", "do_undefinstr", "bug_handler", "call_break_hook", "brk_handler",
    "do_debug_exception", "show_pte",
    /* lockdep */
    "lock_acquire", "lock_release", "__lock_acquire", "lock_acquired", "lock_contended",
    "check_noncircular", "check_prev_add", "check_prevs_add", "validate_chain", "check_deadlock",
    "mark_lock", "print_circular_bug", "check_irq_usage", "lock_is_held_type",
    /* sleeping and waiting */
    "__schedule", "schedule", "schedule_preempt_disabled", "io_schedule", "__schedule_bug",
    "preempt_schedule", "preempt_schedule_common", "preempt_schedule_irq", "__cond_resched",
    "msleep", "msleep_interruptible", "do_nanosleep", "hrtimer_nanosleep", "__might_sleep",
    "__might_resched", "___might_sleep", "__might_fault", "down", "__wait_for_common",
    "wait_for_common", "do_wait_for_common",
};

static bool is_helper(const char *fn)
{
    for (size_t i = 0; i < LG_N_ELEMENTS(HELPER_NAMES); i++)
        if (strcmp(fn, HELPER_NAMES[i]) == 0)
            return true;
    for (size_t i = 0; i < LG_N_ELEMENTS(HELPER_PREFIXES); i++)
        if (starts_with(fn, HELPER_PREFIXES[i]))
            return true;
    return false;
}

/* The function a register dump names: x86 "RIP: 0010:fn+0x2a/0x90 [mod]"
 * (32-bit "EIP: fn+0x..", 4.x "IP: fn+0x.."), arm64 "pc : fn+0x..", arm32
 * "PC is at fn+0x..".
 * "RIP: 0033:0x7f..." is userspace and names none. */
static char *match_register_function(const char *line)
{
    const char *p;
    if (starts_with(line, "RIP: ") || starts_with(line, "EIP: ")) {
        p = line + 5;
        const char *colon = strchr(p, ':');
        if (colon && colon - p <= 5 && strspn(p, "0123456789abcdefABCDEF") == (size_t)(colon - p))
            p = colon + 1;
    } else if (starts_with(line, "pc : ") || starts_with(line, "IP: ")) {
        /* "IP: fn+0x.." is how 4.x kernels named the faulting function */
        p = strchr(line, ':') + 2;
    } else if (starts_with(line, "PC is at ") || starts_with(line, "EIP is at ")) {
        p = strstr(line, " at ") + 4;
    } else {
        return NULL;
    }
    /* 3.x kernels print addresses first: "RIP: 0010:[<ffffffffa0123456>]  [<ffffffffa0123456>] fn+0x.." */
    while (starts_with(p, "[<") && strstr(p, ">]")) {
        p = strstr(p, ">]") + 2;
        p += strspn(p, " \t");
    }
    return parse_symbol(p, NULL);
}

/* A call trace line: "fn+0x1b/0x80 [mod]", "? fn+0x..", old x86
 * "[<ffffffff8106b5e5>] fn+0x..", or a stack marker ("<IRQ>", "</IRQ>",
 * "<NMI>", "<TASK>").  Returns the function of a reliable frame. */
static char *match_frame(lg_scanner *sc, const char *line)
{
    const char *p = line;
    if (starts_with(p, "[<")) {
        const char *close = strstr(p, ">]");
        if (!close)
            return NULL;
        p = close + 2;
        p += strspn(p, " \t");
    }
    if (*p == '<') {
        size_t len = strcspn(p, ">");
        if (p[len] == '>' && len > 1 && !(len == 5 && starts_with(p, "<TASK")) &&
            !(len == 6 && starts_with(p, "</TASK"))) {
            /* old kernels close the interrupt stack with "<EOI>" */
            sc->irq_depth += p[1] == '/' || starts_with(p, "<EOI>") ? -1 : 1;
            if (sc->irq_depth < 0)
                sc->irq_depth = 0;
        }
        return NULL;
    }
    if (starts_with(p, "? "))
        return NULL; /* unreliable: a stale return address the unwinder found on the stack */
    const char *end;
    char *fn = parse_symbol(p, &end);
    if (!fn)
        return NULL;
    if (!strchr(end, '/') || (sc->stall && sc->irq_depth > 0)) {
        free(fn);
        return NULL;
    }
    return fn;
}

/* ---------------------------------------------------------- Linux headers */

typedef struct header {
    char *kind;
    char *function; /* named by the header itself ("in fn+0x..", WARNING's "at file:line fn+0x..") */
    bool stall;
} header;

/* The symbol of the first token of s that is one ("... at drivers/x.c:42 fn+0x12/0x34 [mod]"). */
static char *first_symbol_token(const char *s)
{
    for (const char *p = s; *p;) {
        p += strspn(p, " \t");
        char *fn = parse_symbol(p, NULL);
        if (fn)
            return fn;
        p += strcspn(p, " \t");
    }
    return NULL;
}

/* "BUG: ..." (s starts with it): the kind without the per-run tail. */
static void match_bug(const char *s, header *h)
{
    static const char *const sanitizers[] = { "BUG: KASAN: ", "BUG: KFENCE: ", "BUG: UBSAN: " };
    for (size_t i = 0; i < LG_N_ELEMENTS(sanitizers); i++) {
        if (!starts_with(s, sanitizers[i]))
            continue;
        const char *in = strstr(s, " in ");
        if (!in) {
            h->kind = lg_strdup(s);
            return;
        }
        h->kind = lg_strndup(s, (size_t)(in - s));
        h->function = parse_symbol(in + 4, NULL);
        return;
    }
    /* "BUG: kernel NULL pointer dereference, address: X", "BUG: unable to
     * handle page fault for address: X", "BUG: unable to handle kernel
     * paging request at X", "BUG: soft lockup - CPU#0 stuck for 22s!",
     * "BUG: sleeping function called from invalid context at FILE:LINE",
     * "BUG: workqueue lockup - pool ...", "BUG: spinlock lockup suspected on
     * CPU#0, ...", "BUG: Bad page state in process cat  pfn:...", "BUG:
     * using smp_processor_id() in preemptible [00000000] code: cat/123" */
    static const char *const tails[] = {
        ", address", " for address", " at ", " - CPU#", " - pool", " on CPU#", " in process ", " code: ",
    };
    const char *cut = s + strlen(s);
    for (size_t i = 0; i < LG_N_ELEMENTS(tails); i++) {
        const char *t = strstr(s, tails[i]);
        if (t && t < cut)
            cut = t;
    }
    h->kind = lg_strndup(s, (size_t)(cut - s));
    h->stall = starts_with(s, "BUG: soft lockup");
}

/* x86 die() headers: "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI" (since
 * 6.9 after "Oops: "). */
static const char *const DIE_KINDS[] = {
    "general protection fault", "invalid opcode", "double fault", "divide error", "stack segment",
    "segment not present", "invalid TSS", "alignment check",
};

/* Lines that contain crash words but are not kernel crash reports. */
static bool suppressed(const char *line)
{
    static const char *const benign[] = {
        " segfault at ",           /* userspace segfault, reported by the kernel */
        "general protection fault ip:", /* userspace GPF ("traps: prog[12] general protection ...") */
        "report a bug",
        "ODEBUG:",
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(benign); i++)
        if (strstr(line, benign[i]))
            return true;
    return false;
}

/* Lockdep and RCU-lockdep reports, which print no "CPU: N PID: N at". */
static const char *const WARNING_KINDS[] = {
    "WARNING: possible circular locking dependency detected",
    "WARNING: possible recursive locking detected",
    "WARNING: possible irq lock inversion dependency detected",
    "WARNING: inconsistent lock state",
    "WARNING: suspicious RCU usage",
    "WARNING: bad unlock balance detected!",
    "WARNING: held lock freed!",
    "WARNING: lock held when returning to user space!",
};

/* Is line the start of a kernel crash report?  Headers start the line
 * (after the printk prefix): text that merely contains "Oops" or "BUG" in
 * the middle of a line is someone talking about a crash, not one. */
static bool match_header(const char *line, header *h)
{
    *h = (header) { 0 };
    if (suppressed(line))
        return false;
    const char *s = line;
    if (starts_with(s, "watchdog: ") || starts_with(s, "NMI watchdog: "))
        s = strchr(s, ':') + 2;

    if (starts_with(s, "Kernel panic - not syncing")) {
        h->kind = lg_strdup(s);
    } else if (starts_with(s, "BUG: ")) {
        match_bug(s, h);
    } else if (starts_with(s, "kernel BUG at ")) {
        const char *colon = strrchr(s, ':');
        h->kind = colon ? lg_strndup(s, (size_t)(colon - s)) : lg_strdup(s);
    } else if (starts_with(s, "UBSAN: ")) {
        /* "UBSAN: array-index-out-of-bounds in drivers/x.c:42:17": the file
         * is no function; the call trace names that */
        const char *in = strstr(s, " in ");
        h->kind = in ? lg_strndup(s, (size_t)(in - s)) : lg_strdup(s);
    } else if (starts_with(s, "WARNING: CPU: ") || starts_with(s, "WARNING: at ")) {
        /* "WARNING: CPU: 0 PID: 1 at drivers/x.c:42 fn+0x12/0x34 [mod]" */
        h->kind = lg_strdup("WARNING");
        const char *at = strstr(s, " at ");
        h->function = at ? first_symbol_token(at + 4) : NULL;
    } else if (starts_with(s, "Watchdog detected hard LOCKUP")) {
        h->kind = lg_strdup("Watchdog detected hard LOCKUP");
        h->stall = true;
    } else if (starts_with(s, "INFO: task ") && strstr(s, " blocked for more than ")) {
        h->kind = lg_strdup("INFO: task hung");
    } else if ((starts_with(s, "INFO: rcu") || starts_with(s, "rcu: INFO: rcu")) && strstr(s, " stall")) {
        /* "rcu: INFO: rcu_sched detected stalls on CPUs/tasks:", "rcu: INFO:
         * rcu_preempt self-detected stall on CPU": the flavour follows the
         * kernel's preemption model, not the bug */
        h->kind = lg_strdup("INFO: rcu detected stall");
        h->stall = true;
    } else if (starts_with(s, "PANIC: double fault") || starts_with(s, "traps: PANIC: double fault")) {
        h->kind = lg_strdup("double fault");
    } else if (starts_with(s, "Unable to handle kernel ")) {
        /* arm64: "Unable to handle kernel NULL pointer dereference at virtual
         * address 0000000000000008" (or "... paging request at ...") */
        const char *at = strstr(s, " at ");
        h->kind = at ? lg_strndup(s, (size_t)(at - s)) : lg_strdup(s);
    } else if (starts_with(s, "Internal error: ")) {
        /* arm64: "Internal error: Oops: 0000000096000004 [#1] PREEMPT SMP" */
        const char *colon = strchr(s + strlen("Internal error: "), ':');
        h->kind = colon ? lg_strndup(s, (size_t)(colon - s)) : lg_strdup(s);
    } else if (starts_with(s, "Unhandled fault: ")) {
        /* arm: "Unhandled fault: alignment exception (0x001) at 0x00000000" */
        size_t len = strcspn(s, "(");
        const char *at = strstr(s, " at ");
        if (at && (size_t)(at - s) < len)
            len = (size_t)(at - s);
        h->kind = lg_strndup(s, len);
    } else if (strstr(s, "[#")) {
        const char *die = starts_with(s, "Oops: ") ? s + strlen("Oops: ") : s;
        for (size_t i = 0; !h->kind && i < LG_N_ELEMENTS(DIE_KINDS); i++) {
            size_t n = strlen(DIE_KINDS[i]);
            if (strncmp(die, DIE_KINDS[i], n) == 0 && (die[n] == ':' || die[n] == ','))
                h->kind = lg_strdup(DIE_KINDS[i]);
        }
        if (!h->kind && (starts_with(s, "Oops: ") || starts_with(s, "Oops ")))
            h->kind = lg_strdup("Oops");
    } else {
        for (size_t i = 0; !h->kind && i < LG_N_ELEMENTS(WARNING_KINDS); i++)
            if (starts_with(s, WARNING_KINDS[i]))
                h->kind = lg_strdup(WARNING_KINDS[i]);
    }
    if (h->function && is_helper(h->function)) {
        free(h->function);
        h->function = NULL;
    }
    return h->kind != NULL;
}

/* ------------------------------------------------------- Windows (EMS/SAC) */

static bool parse_hex32(const char *p, uint32_t *out)
{
    p += strspn(p, " \t\"");
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        p += 2;
    if (!isxdigit((unsigned char)*p))
        return false;
    char *end;
    unsigned long long v = strtoull(p, &end, 16);
    if (v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* The stop code a line of a stop screen carries:
 *   <PROPERTY NAME="STOPCODE" TYPE="string"><VALUE>"0x50"</VALUE></PROPERTY>
 *       (EMS's bluescreen block; printed as "0x%X")
 *   *** STOP: 0x00000050 (0xFFFFF8000ABCD000,0x0000000000000000,...)
 *   PAGE_FAULT_IN_NONPAGED_AREA              (the name alone on its line)
 *   Stop code: PAGE_FAULT_IN_NONPAGED_AREA   (Windows 8 and later) */
static bool match_stop_code(const char *line, uint32_t *code)
{
    const char *prop = strstr(line, "NAME=\"STOPCODE\"");
    if (prop) {
        const char *value = strstr(prop, "<VALUE>");
        return value && parse_hex32(value + strlen("<VALUE>"), code);
    }
    if (starts_with(line, "*** STOP:"))
        return parse_hex32(line + strlen("*** STOP:"), code);
    const char *name = line;
    bool labelled = starts_with(line, "Stop code: ") || starts_with(line, "Stop Code: ");
    if (labelled) {
        name += strlen("Stop code: ");
        name += strspn(name, " \t");
        if (name[0] == '0' && (name[1] == 'x' || name[1] == 'X'))
            return parse_hex32(name, code);
    }
    size_t len = strcspn(name, " \t(");
    if (len == 0 || len >= 64)
        return false;
    /* unlabelled, the name must stand alone on its line */
    if (!labelled && name[len + strspn(name + len, " \t")] != '\0')
        return false;
    char buf[64];
    memcpy(buf, name, len);
    buf[len] = '\0';
    return lg_stopcode_lookup(buf, code);
}

/* The driver a stop screen blames:
 *   The problem seems to be caused by the following file: SAMPLEDRV.SYS
 *   ***  sampledrv.sys - Address FFFFF88001234567 base at FFFFF88001230000, DateStamp 5f3e2a10
 *   What failed: sampledrv.sys                 (Windows 8 and later)
 * and, inside a report, any "*.sys" file named on a line. */
static char *match_driver(const char *line, bool in_report)
{
    static const char *const markers[] = {
        "caused by the following file:", "What failed:",
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(markers); i++) {
        const char *m = strstr(line, markers[i]);
        if (m)
            return lg_stopcode_driver_name(m + strlen(markers[i]) + strspn(m + strlen(markers[i]), " \t"));
    }
    if (starts_with(line, "***") && strstr(line, " - Address ")) {
        const char *p = line + strspn(line, "* \t");
        return lg_stopcode_driver_name(p);
    }
    if (!in_report)
        return NULL;
    static const char delimiters[] = " \t\"'()<>:,";
    for (const char *p = line; *p;) {
        p += strspn(p, delimiters);
        size_t len = strcspn(p, delimiters);
        size_t name_len = len;
        while (name_len && strchr(".:;!", p[name_len - 1]))
            name_len--;
        if (name_len > 4 && strncasecmp(p + name_len - 4, ".sys", 4) == 0) {
            char buf[128];
            if (name_len >= sizeof(buf))
                return NULL;
            memcpy(buf, p, name_len);
            buf[name_len] = '\0';
            return lg_stopcode_driver_name(buf);
        }
        p += len;
    }
    return NULL;
}

/* ------------------------------------------------------------- scanning */

static bool set_title(lg_scanner *sc)
{
    char *t;
    if (sc->bsod && sc->bsod_has_code)
        t = lg_stopcode_title(sc->bsod_code, sc->function);
    else if (sc->bsod)
        t = sc->function ? lg_strdup_printf("BSOD in %s", sc->function) : lg_strdup("BSOD");
    else
        t = lg_scanner_canonical_title(sc->kind, sc->function);
    if (sc->title && strcmp(sc->title, t) == 0) {
        free(t);
        return false;
    }
    free(sc->title);
    sc->title = t;
    return true;
}

static bool bsod_hit(lg_scanner *sc, size_t start_line, bool has_code, uint32_t code)
{
    sc->hit = true;
    sc->hit_line = start_line;
    sc->bsod = true;
    sc->bsod_has_code = has_code;
    sc->bsod_code = code;
    sc->kind = lg_strdup("BSOD");
    if (sc->recent_driver && sc->line_no - sc->recent_driver_line <= BSOD_DRIVER_LOOKBACK_LINES)
        sc->function = LG_STEAL(sc->recent_driver);
    return set_title(sc);
}

/* Before any hit: a Windows stop screen starting or naming its code. */
static bool scan_windows(lg_scanner *sc, const char *line)
{
    char *driver = match_driver(line, false);
    if (driver) {
        free(sc->recent_driver);
        sc->recent_driver = driver;
        sc->recent_driver_line = sc->line_no;
    }
    if (!sc->bsod_start_line && (strstr(line, "<BP>") || strstr(line, "CLASSNAME=\"BLUESCREEN\"")))
        sc->bsod_start_line = sc->line_no;
    size_t start = sc->bsod_start_line ? sc->bsod_start_line : sc->line_no;
    uint32_t code;
    if (match_stop_code(line, &code))
        return bsod_hit(sc, start, true, code);
    if (sc->bsod_start_line &&
        (strstr(line, "</INSTANCE>") || strstr(line, "</BP>") ||
         sc->line_no - sc->bsod_start_line >= BSOD_PENDING_LINES))
        return bsod_hit(sc, start, false, 0);
    return false;
}

/* After a bluescreen hit: its stop code (when the block had none) and driver. */
static bool refine_bsod(lg_scanner *sc, const char *line)
{
    bool changed = false;
    uint32_t code;
    if (!sc->bsod_has_code && match_stop_code(line, &code)) {
        sc->bsod_has_code = true;
        sc->bsod_code = code;
        changed = set_title(sc);
    }
    if (!sc->function) {
        sc->function = match_driver(line, true);
        if (sc->function)
            changed |= set_title(sc);
    }
    return changed;
}

/* "Call Trace:" (x86) or "Call trace:" (arm64) alone on its line. */
static bool is_call_trace_label(const char *line)
{
    static const char label[] = "Call Trace:";
    if (strncasecmp(line, label, sizeof(label) - 1) != 0)
        return false;
    const char *rest = line + sizeof(label) - 1;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0';
}

/* After a Linux hit: the guilty function, from a register dump or the call trace. */
static bool refine_linux(lg_scanner *sc, const char *line)
{
    if (sc->function)
        return false;
    if (is_call_trace_label(line)) {
        sc->in_trace = true;
        sc->irq_depth = 0;
        return false;
    }
    char *fn = match_register_function(line);
    if (!fn && sc->in_trace)
        fn = match_frame(sc, line);
    if (!fn)
        return false;
    if (is_helper(fn)) {
        free(fn);
        return false;
    }
    sc->function = fn;
    return set_title(sc);
}

static bool scan_line(lg_scanner *sc, char *raw)
{
    sc->line_no++;
    drop_controls(raw);
    const char *line = strip_prefix(raw);
    if (sc->line_fn)
        sc->line_fn(sc->line_opaque, raw, line, sc->line_no);

    if (!sc->hit) {
        if (scan_windows(sc, line))
            return true;
        header h;
        if (!match_header(line, &h))
            return false;
        sc->hit = true;
        sc->hit_line = sc->line_no;
        sc->kind = h.kind;
        sc->function = h.function;
        sc->stall = h.stall;
        return set_title(sc);
    }
    /* Only the first report decides; later lines can only complete its title. */
    if (sc->line_no - sc->hit_line > REPORT_WINDOW_LINES)
        return false;
    return sc->bsod ? refine_bsod(sc, line) : refine_linux(sc, line);
}

bool lg_scanner_feed(lg_scanner *sc, const char *data, size_t len)
{
    bool changed = false;
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        /* Lines end in LF, CRLF or a bare CR (a terminal shows what follows a
         * CR as a new line, and a kernel report printed after a userspace
         * progress line must still start one).  A CR on an empty line ends
         * nothing: serial consoles send "\r\r\n", and busybox starts its
         * messages with "\r".  So hit lines match what an editor shows for
         * the saved console log. */
        if (c == '\n' && sc->after_cr) {
            sc->after_cr = false;
        } else if (c == '\n' || (c == '\r' && sc->line_len > 0)) {
            sc->line[sc->line_len] = '\0';
            changed |= scan_line(sc, sc->line);
            sc->line_len = 0;
            sc->line_truncated = false;
            sc->after_cr = c == '\r';
        } else if (c == '\r' || c == '\0') {
            continue;
        } else if (sc->line_len < MAX_LINE) {
            sc->after_cr = false;
            sc->line[sc->line_len++] = c;
        } else {
            sc->line_truncated = true;
        }
    }
    return changed;
}

bool lg_scanner_finish(lg_scanner *sc)
{
    bool changed = false;
    if (sc->line_len > 0) {
        sc->line[sc->line_len] = '\0';
        sc->line_len = 0;
        changed = scan_line(sc, sc->line);
    }
    /* a saved log that ends inside a bluescreen block */
    if (!sc->hit && sc->bsod_start_line)
        changed |= bsod_hit(sc, sc->bsod_start_line, false, 0);
    return changed;
}
