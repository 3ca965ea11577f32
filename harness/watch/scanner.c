#include "scanner.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"
#include "frames.h"
#include "stopcodes.h"

#define MAX_LINE 4096
/* A report names its function within a few dozen lines of its header;
 * lockdep prints its dependency chains before the stack, and the OOM killer
 * a line per task before naming whom it killed. */
#define REPORT_WINDOW_LINES 80
#define LOCKDEP_WINDOW_LINES 400
#define OOM_WINDOW_LINES 4000
/* a process name from the console, cleaned and bounded */
#define MAX_COMM 64
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
    int family;     /* report_family: where the report names its guilty function */
    bool stall;     /* printed from a timer interrupt or NMI: its <IRQ>/<NMI> frames are the reporter */
    bool in_trace;
    int irq_depth;
    size_t window;       /* lines after window_start that can still name the function */
    size_t window_start;
    bool at_next_line;   /* lockdep: the previous line ended in "at:", this one is the frame */
    bool prefer_module;  /* an out-of-tree module is loaded (taint O, E or P): its frames win */
    bool function_module; /* the function is a module frame ("[mod]") */
    char *oom_killed;    /* OOM: the process the OOM killer killed */
    const char *const *extra_skip; /* the report family's own helper words */
    bool hung;           /* hung task: rtnl_lock and RCU waits are the identity */
    bool anchored;       /* stall, hung task: the anchor decided */
    char *stall_prev;    /* stall: the last frame that is no helper, above the next anchor */
    bool oom_kill;       /* the report is the OOM killer at work: a later report replaces it */
    bool replaceable;    /* taken as a finding (lg_scanner_replaceable): a later report replaces it */
    bool function_from_track; /* SLUB: the function is the object's allocation or free site */
    bool kasan;          /* a KASAN report: titled "KASAN: TYPE ACCESS in FUNCTION" */
    bool kasan_access_due; /* its type prints an access line ("Read of size 8 at addr ...") */
    const char *access;  /* KASAN: "Read" or "Write" once that line came, else NULL */

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
    free(sc->oom_killed);
    free(sc->stall_prev);
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
/* A KASAN report's title is complete only with its access ("Read of size
 * 8 at addr ..." comes on the line after the header). */
bool lg_scanner_title_specific(const lg_scanner *sc)
{
    return sc->function != NULL && !(sc->kasan_access_due && !sc->access);
}
size_t lg_scanner_hit_line(const lg_scanner *sc) { return sc->hit_line; }
const char *lg_scanner_function(const lg_scanner *sc) { return sc->function; }
const char *lg_scanner_oom_killed(const lg_scanner *sc) { return sc->oom_killed; }

const char *lg_scanner_kind(const lg_scanner *sc)
{
    return sc->hit && !sc->bsod ? sc->kind : sc->hit ? "BSOD" : NULL;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

void lg_scanner_replaceable(lg_scanner *sc)
{
    if (sc->hit && !sc->bsod)
        sc->replaceable = true;
}

bool lg_scanner_kind_is_warning(const char *kind)
{
    return kind && (starts_with(kind, "WARNING") || strcmp(kind, LG_SCANNER_KIND_LEAK) == 0);
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

/* A syslog or journal line: "Dec  4 18:20:04 host kernel: ", or
 * "2026-12-04T18:20:04.123456+00:00 host kernel: ": the kernel's text
 * follows "kernel: " (within the first 96 bytes, after a date). */
static const char *strip_syslog(const char *s)
{
    static const char *const months[] = { "Jan ", "Feb ", "Mar ", "Apr ", "May ", "Jun ",
                                          "Jul ", "Aug ", "Sep ", "Oct ", "Nov ", "Dec " };
    bool dated = isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
                 isdigit((unsigned char)s[3]) && s[4] == '-';
    for (size_t i = 0; !dated && i < LG_N_ELEMENTS(months); i++)
        dated = starts_with(s, months[i]);
    if (!dated)
        return s;
    for (size_t i = 0; i < 96 && s[i]; i++)
        if (s[i] == ' ' && starts_with(s + i + 1, "kernel: "))
            return s + i + 1 + strlen("kernel: ");
    return s;
}

/* "dmesg -x" prefixes: "kern  :warn  : " */
static const char *strip_facility(const char *s)
{
    static const char *const facilities[] = { "kern", "user", "daemon", "syslog" };
    for (size_t i = 0; i < LG_N_ELEMENTS(facilities); i++) {
        if (!starts_with(s, facilities[i]))
            continue;
        const char *p = s + strlen(facilities[i]);
        p += strspn(p, " ");
        if (*p != ':')
            return s;
        p++;
        p += strspn(p, "abcdefghijklmnopqrstuvwxyz");
        p += strspn(p, " ");
        return *p == ':' ? p + 1 : s;
    }
    return s;
}

/* "[Fri Dec  4 18:20:04 2026]" (dmesg -T) from s[0] to s[25]. */
static bool is_human_stamp(const char *s, const char *end)
{
    return end - s == 25 && s[4] == ' ' && s[8] == ' ' && s[14] == ':' && s[17] == ':' &&
           isalpha((unsigned char)s[1]) && isdigit((unsigned char)s[24]);
}

/* Drops "[   12.345678] " and "<4>" prefixes (and a printk caller id such
 * as "[    T1]" or "[    C0]", dmesg -T and -x stamps, syslog prefixes). */
static const char *strip_prefix(const char *s)
{
    /* "** 12 printk messages dropped ** " and a login prompt a kernel line
     * interrupted ("host login: [  12.3] BUG: ...") */
    if (starts_with(s, "** ") && strstr(s, " printk messages dropped ** "))
        s = strstr(s, " printk messages dropped ** ") + strlen(" printk messages dropped ** ");
    const char *login = strstr(s, " login: ");
    if (login && login - s < 64 && login[strlen(" login: ")] == '[')
        s = login + strlen(" login: ");
    s = strip_syslog(strip_facility(s));
    /* /dev/kmsg records: "4,1234,56789012,-;BUG: ..." */
    size_t d = strspn(s, "0123456789");
    if (d > 0 && d < 4 && s[d] == ',') {
        const char *semi = strchr(s, ';');
        size_t fields = strspn(s, "0123456789,-+c");
        if (semi && (size_t)(semi - s) == fields && fields < 48)
            s = semi + 1;
    }
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
            if (stamp || (end && is_human_stamp(s, end))) {
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

static bool is_helper(const char *fn)
{
    return lg_frame_is_helper(fn);
}

/* Does the frame whose symbol ends at `end` ("+0x1b/0x80 [sampledrv]")
 * belong to a loaded module? */
static bool module_suffix(const char *end)
{
    const char *open = strstr(end, " [");
    if (!open)
        return false;
    size_t n = strspn(open + 2, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
    return n > 0 && open[2 + n] == ']';
}

/* The function a register dump names: x86 "RIP: 0010:fn+0x2a/0x90 [mod]"
 * (32-bit "EIP: fn+0x..", 4.x "IP: fn+0x.."), arm64 "pc : fn+0x..", arm32
 * "PC is at fn+0x..".
 * "RIP: 0033:0x7f..." is userspace and names none. */
static char *match_register_function(const char *line, bool *module)
{
    const char *p;
    if (starts_with(line, "RIP: ") || starts_with(line, "EIP: ")) {
        p = line + 5;
        const char *colon = strchr(p, ':');
        if (colon && colon - p <= 5 && strspn(p, "0123456789abcdefABCDEF") == (size_t)(colon - p))
            p = colon + 1;
    } else if (starts_with(line, "pc : ") || starts_with(line, "IP: ") || starts_with(line, "epc : ")) {
        /* riscv names it "epc : fn+0x.." */
        /* "IP: fn+0x.." is how 4.x kernels named the faulting function */
        p = strchr(line, ':') + 2;
    } else if (starts_with(line, "PC is at ") || starts_with(line, "EIP is at ")) {
        p = strstr(line, " at ") + 4;
    } else if (starts_with(line, "NIP [") && strstr(line, "] ")) {
        /* powerpc: "NIP [c000000000123456] fn+0x../0x.." */
        p = strstr(line, "] ") + 2;
    } else {
        return NULL;
    }
    /* 3.x kernels print addresses first: "RIP: 0010:[<ffffffffa0123456>]  [<ffffffffa0123456>] fn+0x.." */
    while (starts_with(p, "[<") && strstr(p, ">]")) {
        p = strstr(p, ">]") + 2;
        p += strspn(p, " \t");
    }
    const char *end;
    char *fn = parse_symbol(p, &end);
    *module = fn && module_suffix(end);
    return fn;
}

/* A call trace line: "fn+0x1b/0x80 [mod]", "? fn+0x..", old x86
 * "[<ffffffff8106b5e5>] fn+0x..", or a stack marker ("<IRQ>", "</IRQ>",
 * "<NMI>", "<TASK>").  Returns the function of a reliable frame. */
static char *match_frame(lg_scanner *sc, const char *line, bool *module)
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
    *module = module_suffix(end);
    return fn;
}

/* ---------------------------------------------------------- Linux headers */

/* Where a report names its guilty function, and how long it takes to. */
typedef enum report_family {
    FAMILY_PLAIN,   /* register dump (RIP:, pc :), then the call trace */
    FAMILY_STALL,   /* printed from a timer interrupt or NMI: its <IRQ>/<NMI> frames are the reporter */
    FAMILY_STACK,   /* a stack printed without a "Call Trace:" label right after the header (KMSAN, KFENCE) */
    FAMILY_LOCKDEP, /* the lock's "at: FUNC" lines first, then the stack backtrace */
    FAMILY_LOCKDEP_TRACE, /* lockdep reports whose "at:" lines name held locks, not the culprit */
    FAMILY_LEAK,    /* kmemleak: the allocation backtrace */
    FAMILY_OOM,     /* the OOM killer: the allocating stack, and whom it killed */
    FAMILY_SLUB,    /* SLUB debug: "Allocated in FN" / "Freed in FN", then the checking call trace */
} report_family;

typedef struct header {
    char *kind;
    char *function; /* named by the header itself ("in fn+0x..", WARNING's "at file:line fn+0x..") */
    bool function_module;
    report_family family;
    char *killed; /* OOM: the killed process */
    bool fixed;   /* the kind is the kernel's fixed text: keep its numbers */
} header;

/* The symbol of the first token of s that is one ("... at drivers/x.c:42 fn+0x12/0x34 [mod]"). */
static char *first_symbol_token(const char *s, bool *module)
{
    for (const char *p = s; *p;) {
        p += strspn(p, " \t");
        const char *end;
        char *fn = parse_symbol(p, &end);
        if (fn) {
            *module = module_suffix(end);
            return fn;
        }
        p += strcspn(p, " \t");
    }
    return NULL;
}

/* "BUG: ..." (s starts with it): the kind without the per-run tail. */
static void match_bug(const char *s, header *h)
{
    static const struct {
        const char *prefix;
        report_family family;
    } sanitizers[] = {
        { "BUG: KASAN: ", FAMILY_PLAIN }, { "BUG: KFENCE: ", FAMILY_STACK },
        { "BUG: KMSAN: ", FAMILY_STACK }, { "BUG: UBSAN: ", FAMILY_PLAIN },
        { "BUG: KCSAN: ", FAMILY_STACK },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(sanitizers); i++) {
        if (!starts_with(s, sanitizers[i].prefix))
            continue;
        h->family = sanitizers[i].family;
        const char *in = strstr(s, " in ");
        if (!in) {
            h->kind = lg_strdup(s);
            return;
        }
        h->kind = lg_strndup(s, (size_t)(in - s));
        const char *end;
        h->function = parse_symbol(in + 4, &end);
        h->function_module = h->function && module_suffix(end);
        return;
    }
    /* "BUG: kernel NULL pointer dereference, address: X", "BUG: unable to
     * handle page fault for address: X", "BUG: unable to handle kernel
     * paging request at X", "BUG: soft lockup - CPU#0 stuck for 22s!",
     * "BUG: sleeping function called from invalid context at FILE:LINE",
     * "BUG: workqueue lockup - pool ...", "BUG: spinlock lockup suspected on
     * CPU#0, ...", "BUG: Bad page state in process cat  pfn:...", "BUG:
     * using smp_processor_id() in preemptible [00000000] code: cat/123",
     * "BUG: stack guard page was hit at X (stack is X..X)" */
    static const char *const tails[] = {
        ", address", " for address", " at ", " - CPU#", " - pool", " on CPU#", " in process ", " code: ",
    };
    const char *cut = s + strlen(s);
    for (size_t i = 0; i < LG_N_ELEMENTS(tails); i++) {
        const char *t = strstr(s, tails[i]);
        if (t && t < cut)
            cut = t;
    }
    /* "... in preemptible [00000000] code: cat/123": the code is part of the kind */
    if (starts_with(cut, " code: ") && strstr(s, " in preemptible ")) {
        h->kind = lg_strdup_printf("%.*s code", (int)(cut - s), s);
    } else {
        h->kind = lg_strndup(s, (size_t)(cut - s));
    }
    if (starts_with(s, "BUG: soft lockup"))
        h->family = FAMILY_STALL;
    else if (starts_with(s, "BUG: Invalid wait context"))
        h->family = FAMILY_LOCKDEP;
}

/* SLUB debug: "BUG kmalloc-64 (Tainted: G    B      O ): Redzone overwritten"
 * (mm/slub.c slab_bug(): "BUG %s (%s): %pV"): the cache name and taint go. */
static bool match_slub(const char *s, header *h)
{
    if (!starts_with(s, "BUG "))
        return false;
    const char *name = s + 4;
    size_t n = strcspn(name, " ");
    if (n == 0 || n > 64 || !starts_with(name + n, " ("))
        return false;
    const char *close = strstr(name + n, "): ");
    if (!close || close[3] == '\0')
        return false;
    h->kind = lg_strdup_printf("BUG: %s", close + 3);
    h->family = FAMILY_SLUB;
    return true;
}

/* x86 die() headers: "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI" (since
 * 6.9 after "Oops: "). */
static const char *const DIE_KINDS[] = {
    "general protection fault", "invalid opcode", "double fault", "divide error", "stack segment",
    "segment not present", "invalid TSS", "alignment check", "kernel stack overflow",
};

/* Lines that contain crash words but are not kernel crash reports. */
static bool suppressed(const char *line)
{
    static const char *const benign[] = {
        " segfault at ",           /* userspace segfault, reported by the kernel */
        "general protection fault ip:", /* userspace GPF ("traps: prog[12] general protection ...") */
        "report a bug",
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(benign); i++)
        if (strstr(line, benign[i]))
            return true;
    return false;
}

/* Lockdep and RCU-lockdep reports, which print no "CPU: N PID: N at"; 4.x
 * kernels put them in brackets ("[ INFO: possible circular locking
 * dependency detected ]") and said INFO where later ones say WARNING. */
static const struct {
    const char *text;
    const char *kind;
    report_family family;
} LOCKDEP_KINDS[] = {
    { "possible circular locking dependency detected", "WARNING: possible circular locking dependency detected",
      FAMILY_LOCKDEP },
    { "possible recursive locking detected", "WARNING: possible recursive locking detected", FAMILY_LOCKDEP },
    { "possible irq lock inversion dependency detected",
      "WARNING: possible irq lock inversion dependency detected", FAMILY_LOCKDEP },
    { "inconsistent lock state", "WARNING: inconsistent lock state", FAMILY_LOCKDEP },
    { "suspicious RCU usage", "WARNING: suspicious RCU usage", FAMILY_LOCKDEP_TRACE },
    { "bad unlock balance detected!", "WARNING: bad unlock balance detected!", FAMILY_LOCKDEP },
    { "held lock freed!", "WARNING: held lock freed!", FAMILY_LOCKDEP },
    { "lock held when returning to user space!", "WARNING: lock held when returning to user space!",
      FAMILY_LOCKDEP },
    { "Nested lock was not taken", "WARNING: Nested lock was not taken", FAMILY_LOCKDEP },
    { "lock held at task exit time!", "WARNING: lock held at task exit time!", FAMILY_LOCKDEP },
};

static bool match_lockdep(const char *s, header *h)
{
    const char *text = NULL;
    if (starts_with(s, "WARNING: "))
        text = s + strlen("WARNING: ");
    else if (starts_with(s, "BUG: "))
        text = s + strlen("BUG: ");
    else if (starts_with(s, "[ INFO: ") || starts_with(s, "[ BUG: "))
        text = strchr(s, ':') + 2;
    else if (starts_with(s, "INFO: "))
        text = s + strlen("INFO: ");
    if (!text)
        return false;
    for (size_t i = 0; i < LG_N_ELEMENTS(LOCKDEP_KINDS); i++) {
        if (starts_with(text, LOCKDEP_KINDS[i].text)) {
            h->kind = lg_strdup(LOCKDEP_KINDS[i].kind);
            h->family = LOCKDEP_KINDS[i].family;
            return true;
        }
    }
    /* "WARNING: cat/231 still has locks held!" */
    const char *held = strstr(text, " still has locks held!");
    if (held && s[0] != '[' && held > text && !memchr(text, ' ', (size_t)(held - text))) {
        h->kind = lg_strdup("WARNING: still has locks held!");
        h->family = FAMILY_LOCKDEP;
        return true;
    }
    /* "WARNING: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected" */
    const char *order = strstr(text, "-unsafe lock order detected");
    if (strstr(text, "-safe -> ") && order) {
        h->kind = lg_strdup_printf("WARNING: %.*s", (int)(order + strlen("-unsafe lock order detected") - text), text);
        h->family = FAMILY_LOCKDEP;
        return true;
    }
    return false;
}

/* A process name in parentheses at p ("(sampleagentd)"), cleaned. */
static char *paren_name(const char *p)
{
    if (*p != '(')
        return NULL;
    const char *close = strchr(p + 1, ')');
    size_t len = close ? (size_t)(close - p - 1) : 0;
    if (len == 0)
        return NULL;
    if (len > MAX_COMM)
        len = MAX_COMM;
    char *name = lg_strndup(p + 1, len);
    for (char *c = name; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
            *c = '?';
    return name;
}

/* "Out of memory: Killed process 231 (sampleagentd) total-vm:...",
 * "Memory cgroup out of memory: Killed process ...", 4.x "Out of memory:
 * Kill process 231 (sampleagentd) score 900 or sacrifice child" and its
 * "Killed process 231 (sampleagentd) total-vm:...": the killed process. */
static char *match_oom_kill(const char *line)
{
    static const char *const markers[] = { "Killed process ", "Kill process " };
    for (size_t i = 0; i < LG_N_ELEMENTS(markers); i++) {
        const char *m = strstr(line, markers[i]);
        if (!m)
            continue;
        /* the kernel's own lines start with these */
        static const char *const leads[] = { "Out of memory: ", "Memory cgroup out of memory: " };
        bool at_start = m == line;
        for (size_t k = 0; k < LG_N_ELEMENTS(leads); k++)
            at_start |= starts_with(line, leads[k]) && m == line + strlen(leads[k]);
        if (!at_start)
            continue;
        const char *p = m + strlen(markers[i]);
        size_t digits = strspn(p, "0123456789");
        if (digits == 0 || p[digits] != ' ')
            continue;
        return paren_name(p + digits + 1);
    }
    return NULL;
}

/* Report headers that name their family by a fixed text. */
static const struct {
    const char *prefix;
    const char *kind;
    report_family family;
} FIXED_KINDS[] = {
    /* lib/list_debug.c: "list_add corruption. prev->next should be next (...)" */
    { "list_add corruption", "BUG: corrupted list", FAMILY_PLAIN },
    { "list_del corruption", "BUG: corrupted list", FAMILY_PLAIN },
    { "list_add double add", "BUG: corrupted list", FAMILY_PLAIN },
    { "list_del double del", "BUG: corrupted list", FAMILY_PLAIN },
    { "hlist_add corruption", "BUG: corrupted list", FAMILY_PLAIN },
    { "hlist_del corruption", "BUG: corrupted list", FAMILY_PLAIN },
    /* mm/usercopy.c: "usercopy: Kernel memory exposure attempt detected from ..." */
    { "usercopy: Kernel memory exposure attempt detected", "BUG: bad usercopy", FAMILY_PLAIN },
    { "usercopy: Kernel memory overwrite attempt detected", "BUG: bad usercopy", FAMILY_PLAIN },
    { "usercopy: kernel memory exposure attempt detected", "BUG: bad usercopy", FAMILY_PLAIN },
    { "usercopy: kernel memory overwrite attempt detected", "BUG: bad usercopy", FAMILY_PLAIN },
    /* kernel/locking/lockdep.c assign_lock_key() */
    { "INFO: trying to register non-static key", "INFO: trying to register non-static key",
      FAMILY_LOCKDEP_TRACE },
    /* fs/super.c */
    { "VFS: Busy inodes after unmount", "VFS: Busy inodes after unmount", FAMILY_PLAIN },
    /* net/core/dev.c netdev_wait_allrefs() */
    { "unregister_netdevice: waiting for ", "unregister_netdevice: waiting for device to become free",
      FAMILY_PLAIN },
    /* arm64 */
    { "SError Interrupt on CPU", "SError Interrupt", FAMILY_PLAIN },
    { "Bad mode in ", NULL, FAMILY_PLAIN },
    /* kmemleak (kmemleak.verbose=1, or the debugfs file copied to the console,
     * after "BUG: memory leak" as syzkaller prints it) */
    { "BUG: memory leak", LG_SCANNER_KIND_LEAK, FAMILY_LEAK },
    /* arch/x86/kernel/unwind_frame.c */
    { "WARNING: kernel stack regs at ", "WARNING: kernel stack regs has bad value", FAMILY_PLAIN },
    { "WARNING: kernel stack frame pointer at ", "WARNING: kernel stack frame pointer has bad value", FAMILY_PLAIN },
    { "kmemleak: unreferenced object 0x", LG_SCANNER_KIND_LEAK, FAMILY_LEAK },
    { "unreferenced object 0x", LG_SCANNER_KIND_LEAK, FAMILY_LEAK },
    /* mm/oom_kill.c panics */
    { "Kernel panic - not syncing: System is deadlocked on memory", "OOM", FAMILY_OOM },
    { "Kernel panic - not syncing: Out of memory and no killable processes", "OOM", FAMILY_OOM },
    { "Kernel panic - not syncing: Out of memory: ", "OOM", FAMILY_OOM },
};

static bool match_fixed(const char *s, header *h)
{
    for (size_t i = 0; i < LG_N_ELEMENTS(FIXED_KINDS); i++) {
        if (!starts_with(s, FIXED_KINDS[i].prefix))
            continue;
        if (FIXED_KINDS[i].kind) {
            h->kind = lg_strdup(FIXED_KINDS[i].kind);
        } else {
            /* "Bad mode in Synchronous Abort handler detected on CPU0, code 0x..." */
            const char *cut = strstr(s, " detected");
            h->kind = cut ? lg_strndup(s, (size_t)(cut - s)) : lg_strdup(s);
        }
        h->family = FIXED_KINDS[i].family;
        return true;
    }
    return false;
}

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

    if (match_fixed(s, h)) {
        /* fixed kinds first: some are panics */
    } else if (starts_with(s, "Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: ")) {
        /* the return address of the function whose canary died */
        h->kind = lg_strdup("stack-protector: Kernel stack is corrupted");
        const char *in = strstr(s, "in: ") + 4;
        const char *end;
        h->function = parse_symbol(in, &end);
        h->function_module = h->function && module_suffix(end);
    } else if (starts_with(s, "Kernel panic - not syncing")) {
        h->kind = lg_strdup(s);
    } else if (match_lockdep(s, h)) {
        /* done */
    } else if (match_slub(s, h)) {
        /* done */
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
        h->function = at ? first_symbol_token(at + 4, &h->function_module) : NULL;
    } else if (starts_with(s, "refcount_t: ")) {
        /* lib/refcount.c: "refcount_t: underflow; use-after-free.", then the
         * WARNING in refcount_warn_saturate; "addition on 0" keeps its 0 */
        size_t len = strcspn(s, ".");
        h->kind = lg_strndup(s, len);
        h->fixed = strspn(s, "abcdefghijklmnopqrstuvwxyz_:;0 -") == len;
    } else if (starts_with(s, "ODEBUG: ") && strstr(s, " (active state ")) {
        /* lib/debugobjects.c: "ODEBUG: free active (active state 0) object
         * type: timer_list hint: fn+0x0/0x20", then the WARNING in
         * debug_print_object */
        h->kind = lg_strndup(s, (size_t)(strstr(s, " (active state ") - s));
    } else if (starts_with(s, "Watchdog detected hard LOCKUP")) {
        h->kind = lg_strdup("Watchdog detected hard LOCKUP");
        h->family = FAMILY_STALL;
    } else if (starts_with(s, "INFO: task ") && strstr(s, " blocked for more than ")) {
        h->kind = lg_strdup("INFO: task hung");
    } else if (starts_with(s, "INFO: task ") && strstr(s, " can't die for more than ")) {
        h->kind = lg_strdup("INFO: task can't die");
    } else if ((starts_with(s, "INFO: rcu") || starts_with(s, "rcu: INFO: rcu")) && strstr(s, " stall")) {
        /* "rcu: INFO: rcu_sched detected stalls on CPUs/tasks:", "rcu: INFO:
         * rcu_preempt self-detected stall on CPU": the flavour follows the
         * kernel's preemption model, not the bug */
        h->kind = lg_strdup("INFO: rcu detected stall");
        h->family = FAMILY_STALL;
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
    } else if (strstr(s, " invoked oom-killer: ")) {
        /* "cat invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0" */
        h->kind = lg_strdup("OOM");
        h->family = FAMILY_OOM;
    } else if ((h->killed = match_oom_kill(s)) != NULL) {
        h->kind = lg_strdup("OOM");
        h->family = FAMILY_OOM;
    } else if (starts_with(s, "kmemleak: ") && strstr(s, " new suspected memory leak")) {
        /* "kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)" */
        h->kind = lg_strdup(LG_SCANNER_KIND_LEAK);
        h->family = FAMILY_LEAK;
    } else if (strstr(s, "[#")) {
        const char *die = starts_with(s, "Oops: ") ? s + strlen("Oops: ") : s;
        for (size_t i = 0; !h->kind && i < LG_N_ELEMENTS(DIE_KINDS); i++) {
            size_t n = strlen(DIE_KINDS[i]);
            if (strncmp(die, DIE_KINDS[i], n) == 0 && (die[n] == ':' || die[n] == ',' || die[n] == ' '))
                h->kind = lg_strdup(DIE_KINDS[i]);
        }
        if (!h->kind && (starts_with(s, "Oops: ") || starts_with(s, "Oops ")))
            h->kind = lg_strdup("Oops");
    }
    if (h->function && (is_helper(h->function) || (!h->function_module && lg_frame_is_kernel_helper(h->function)))) {
        free(h->function);
        h->function = NULL;
        h->function_module = false;
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

/* "OOM in FUNCTION: killed COMM", the name without what varies between
 * runs of the same program ("syz-executor.3" and "kworker/0:1" are
 * "syz-executor" and "kworker"). */
static char *oom_title(const lg_scanner *sc)
{
    const char *name = sc->oom_killed;
    size_t len = strcspn(name, "/");
    size_t digits = len;
    while (digits > 0 && isdigit((unsigned char)name[digits - 1]))
        digits--;
    /* an instance number after a separator ("executor.3"), not "python3" */
    if (digits > 1 && digits < len && strchr(".:-_", name[digits - 1]))
        len = digits - 1;
    if (len == 0)
        len = strlen(name);
    if (sc->function)
        return lg_strdup_printf("%s in %s: killed %.*s", sc->kind, sc->function, (int)len, name);
    return lg_strdup_printf("%s: killed %.*s", sc->kind, (int)len, name);
}

/* "KASAN: slab-out-of-bounds Read in FUNCTION": the bug type and the
 * access, as kernel developers title KASAN reports (the kind keeps the
 * header's "BUG: KASAN: slab-out-of-bounds"). */
static char *kasan_title(const lg_scanner *sc)
{
    const char *type = sc->kind + strlen("BUG: ");
    return lg_strdup_printf("%s%s%s%s%s", type, sc->access ? " " : "", sc->access ? sc->access : "",
                            sc->function ? " in " : "", sc->function ? sc->function : "");
}

static bool set_title(lg_scanner *sc)
{
    char *t;
    if (sc->bsod && sc->bsod_has_code)
        t = lg_stopcode_title(sc->bsod_code, sc->function);
    else if (sc->bsod)
        t = sc->function ? lg_strdup_printf("BSOD in %s", sc->function) : lg_strdup("BSOD");
    else if (sc->family == FAMILY_OOM && sc->oom_killed)
        t = oom_title(sc);
    else if (sc->kasan)
        t = kasan_title(sc);
    else if (sc->function)
        t = lg_strdup_printf("%s in %s", sc->kind, sc->function); /* the kind is canonical since the hit */
    else
        t = lg_strdup(sc->kind);
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

/* "Call Trace:" (x86) or "Call trace:" (arm64) alone on its line; kmemleak's
 * "backtrace:" and "backtrace (crc 8f1c5a3e):". */
static bool is_call_trace_label(const char *line)
{
    static const char label[] = "Call Trace:";
    const char *rest;
    if (strncasecmp(line, label, sizeof(label) - 1) == 0) {
        rest = line + sizeof(label) - 1;
    } else if (starts_with(line, "backtrace:")) {
        rest = line + strlen("backtrace:");
    } else if (starts_with(line, "backtrace (") && strstr(line, "):")) {
        rest = strstr(line, "):") + 2;
    } else {
        return false;
    }
    while (*rest == ' ' || *rest == '\t')
        rest++;
    return *rest == '\0';
}

/* Lines after which a report's frames describe another stack: the
 * allocation and free stacks of KASAN, KFENCE and KMSAN, the lock chains
 * lockdep prints before its stack backtrace, other CPUs' backtraces. */
static bool ends_trace(const char *line)
{
    static const char *const markers[] = {
        "Allocated by task ", "Freed by task ", "Uninit was created at:", "Uninit was stored to memory at:",
        "Local variable ", "Memory state around the buggy address", "The buggy address belongs to",
        "Last potentially related work creation:", "Second to last potentially related work creation:",
        "Last call_rcu():", "Second to last call_rcu():", "allocated by task ", "freed by task ",
        "the existing dependency chain", "other info that might help us debug this",
        "Showing all locks held in the system", "NMI backtrace for cpu ", "Sending NMI from CPU",
    };
    const char *p = line;
    if (starts_with(p, "kfence-#"))
        return true;
    for (size_t i = 0; i < LG_N_ELEMENTS(markers); i++)
        if (starts_with(p, markers[i]))
            return true;
    return false;
}

/* lockdep's lock lines: "ffff888004a3c2f0 (&sd->lock){+.+.}-{3:3}, at:
 * fn+0x22/0x90 [mod]" (the frame on the same line), or "... at:" with the
 * frame "[<ffffffffc0123456>] fn+0x30/0x60 [mod]" on the next line. */
static char *match_lockdep_at(lg_scanner *sc, const char *line, bool *module)
{
    bool next = sc->at_next_line;
    sc->at_next_line = false;
    if (next)
        return match_frame(sc, line, module);
    const char *at = strstr(line, ", at: ");
    if (!at && (at = strstr(line, " at: ")) == NULL) {
        size_t len = strlen(line);
        sc->at_next_line = len >= 4 && strcmp(line + len - 4, " at:") == 0;
        return NULL;
    }
    at = strstr(at, "at: ") + 4;
    return match_frame(sc, at, module);
}

/* "Tainted: G           OE" or "Modules linked in: sampledrv(OE)": an
 * out-of-tree (O), unsigned (E) or proprietary (P) module is loaded. */
static bool names_out_of_tree_module(const char *line)
{
    const char *t = strstr(line, "Tainted: ");
    if (t) {
        /* the flags, up to the kernel version; 6.12 and later also spell
         * them out: "Tainted: [O]=OOT_MODULE, [E]=UNSIGNED_MODULE" */
        t += strlen("Tainted: ");
        if (strstr(t, "[O]=") || strstr(t, "[E]=") || strstr(t, "[P]="))
            return true;
        for (size_t i = 0; i < 40 && (isupper((unsigned char)t[i]) || t[i] == ' '); i++)
            if (t[i] == 'O' || t[i] == 'E' || t[i] == 'P')
                return true;
    }
    if (starts_with(line, "Modules linked in:"))
        return strstr(line, "(O") || strstr(line, "(E") || strstr(line, "(P") || strstr(line, "(PO");
    return false;
}

/* Report families whose stacks pass through more machinery than most:
 * the words that mark it (a crash tracker's per-report skip lists). */
static const char *const SKIP_LEAK[] = { "kmemleak", "kmalloc", "kcalloc", "kzalloc", "vmalloc", "mmap", "kmem",
                                         "slab", "alloc", "create_object", "idr_get", "list_lru_init", "kasprintf",
                                         "kvasprintf", "pcpu_create", "strdup", "strndup", "memdup", NULL };
static const char *const SKIP_ODEBUG[] = { "debug_", "rcu", "hrtimer_", "timer_", "work_", "percpu_", "kmem_",
                                           "slab_", "kfree", "vunmap", "vfree", "__free_", "kobject_", NULL };
static const char *const SKIP_REFCOUNT[] = { "refcount", "kobject_", NULL };
static const char *const SKIP_USERCOPY[] = { "usercopy", "__check", NULL };
static const char *const SKIP_RCU_USAGE[] = { "rcu", "kmem", "slab", "kmalloc", "vmalloc", "kcalloc", "kzalloc",
                                              NULL };
static const char *const SKIP_NONSTATIC_KEY[] = { "stack", "lock", "IRQ", NULL };
static const char *const SKIP_RCU_STALL[] = { "apic_timer_interrupt", "rcu", NULL };
static const char *const SKIP_PREEMPT[] = { "dump_stack", "preemption", "preempt", NULL };
static const char *const SKIP_SPINLOCK[] = { "spin_", NULL };
static const char *const SKIP_FREE[] = { "kmem_", "slab_", "kfree", "vunmap", "vfree", NULL };
static const char *const SKIP_STACK_CHK[] = { "stack_chk", NULL };
static const char *const SKIP_HUNG[] = { "sched", "_lock", "_slowlock", "down", "completion", "kthread", "wait",
                                         "synchronize", "context_switch", "__switch_to", "cancel_delayed_work",
                                         NULL };

static const char *const *extra_skip_for(const char *kind)
{
    static const struct {
        const char *prefix;
        const char *const *words;
    } table[] = {
        { "memory leak", SKIP_LEAK }, { "ODEBUG:", SKIP_ODEBUG }, { "refcount_t:", SKIP_REFCOUNT },
        { "BUG: bad usercopy", SKIP_USERCOPY }, { "WARNING: suspicious RCU usage", SKIP_RCU_USAGE },
        { "INFO: trying to register non-static key", SKIP_NONSTATIC_KEY },
        { "INFO: rcu detected stall", SKIP_RCU_STALL }, { "BUG: using ", SKIP_PREEMPT },
        { "BUG: spinlock ", SKIP_SPINLOCK }, { "BUG: KASAN: double-free", SKIP_FREE },
        { "BUG: KASAN: invalid-free", SKIP_FREE }, { "stack-protector:", SKIP_STACK_CHK },
        { "INFO: task hung", SKIP_HUNG }, { "INFO: task can't die", SKIP_HUNG },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(table); i++)
        if (starts_with(kind, table[i].prefix))
            return table[i].words;
    return NULL;
}

/* Is fn machinery for this report?  A module's frame is judged by the
 * common list only: the family heuristics are about the kernel's own code. */
static bool skipped(const lg_scanner *sc, const char *fn, bool module)
{
    if (sc->family == FAMILY_OOM ? lg_frame_is_alloc_path(fn) : is_helper(fn))
        return true;
    return !module && (lg_frame_is_kernel_helper(fn) || lg_frame_contains_any(fn, sc->extra_skip));
}

/* A stall's function once its anchor shows: the syscall's name without
 * its arch wrapper ("__x64_sys_read" is "sys_read"). */
static char *stall_name(const char *fn)
{
    static const char *const wrappers[] = { "__x64_", "SYSC_", "SyS_", "compat_SYSC_", "compat_SyS_",
                                            "__ia32_sys_" };
    for (size_t i = 0; i < LG_N_ELEMENTS(wrappers); i++)
        if (starts_with(fn, wrappers[i]) && fn[strlen(wrappers[i])])
            return lg_strdup(fn + strlen(wrappers[i]));
    return lg_strdup(fn);
}

static bool set_function(lg_scanner *sc, char *fn, bool module)
{
    free(sc->function);
    sc->function = fn;
    sc->function_module = module;
    return set_title(sc);
}

/* Stalls and hung tasks: an anchor in the stack overrides the first frame,
 * unless that is an out-of-tree module's.  Takes fn; true if it decided. */
static bool anchor_frame(lg_scanner *sc, char *fn, bool module, bool *changed)
{
    if (sc->anchored || (sc->prefer_module && sc->function_module))
        return false;
    if (sc->stall) {
        if (lg_frame_is_stall_anchor(fn)) {
            if (!sc->stall_prev)
                return false;
            sc->anchored = true;
            *changed |= set_function(sc, stall_name(sc->stall_prev), false);
            free(fn);
            return true;
        }
        if (!skipped(sc, fn, module)) {
            free(sc->stall_prev);
            sc->stall_prev = lg_strdup(fn);
        }
        return false;
    }
    const char *anchor = sc->hung ? lg_frame_hung_anchor(fn) : NULL;
    if (!anchor)
        return false;
    sc->anchored = true;
    *changed |= set_function(sc, lg_strdup(anchor), false);
    free(fn);
    return true;
}

/* SLUB debug's tracking lines (slub_debug=U): "Allocated in FN+0x../0x..
 * [mod] age=.. cpu=.. pid=.." and "Freed in ...": the function of the site. */
static char *match_slub_track(const char *line, bool *module)
{
    const char *p;
    if (starts_with(line, "Allocated in "))
        p = line + strlen("Allocated in ");
    else if (starts_with(line, "Freed in "))
        p = line + strlen("Freed in ");
    else
        return NULL;
    const char *end;
    char *fn = parse_symbol(p, &end);
    *module = fn && module_suffix(end);
    return fn;
}

/* SLUB checks an object when it is freed or validated, often far from the
 * code that wrote over it (an RCU callback, a cache shrinker, a validation
 * run): the call trace may hold no frame of the culprit.  The report's
 * tracking lines name the object's allocation and last free sites; a
 * module's frame there (allocation first) names the culprit until the call
 * trace shows a module frame of its own.  Takes nothing; true if the title
 * changed. */
static bool slub_track(lg_scanner *sc, const char *line)
{
    bool module = false;
    char *fn = match_slub_track(line, &module);
    if (!fn)
        return false;
    if (!module || sc->function || skipped(sc, fn, module)) {
        free(fn);
        return false;
    }
    sc->function_from_track = true;
    return set_function(sc, fn, true);
}

/* After a Linux hit: the guilty function, from a register dump or the call trace. */
static bool refine_linux(lg_scanner *sc, const char *line)
{
    bool changed = false;
    if (sc->kasan_access_due && !sc->access) {
        if (starts_with(line, "Read of size "))
            sc->access = "Read";
        else if (starts_with(line, "Write of size "))
            sc->access = "Write";
        if (sc->access)
            return set_title(sc);
    }
    if (sc->family == FAMILY_SLUB && !sc->in_trace && slub_track(sc, line))
        return true;
    /* kmemleak.verbose prefixes every line of its report */
    if (sc->family == FAMILY_LEAK && starts_with(line, "kmemleak: "))
        line += strlen("kmemleak: ") + strspn(line + strlen("kmemleak: "), " \t");
    if (sc->family == FAMILY_OOM && !sc->oom_killed) {
        sc->oom_killed = match_oom_kill(line);
        if (sc->oom_killed)
            changed = set_title(sc);
    }
    bool anchors = (sc->stall || sc->hung) && !sc->anchored;
    if (!sc->function_from_track && (sc->prefer_module ? sc->function_module : sc->function != NULL && !anchors))
        return changed;
    if (!sc->prefer_module && names_out_of_tree_module(line)) {
        sc->prefer_module = true;
        if (sc->function_module)
            return changed;
    }
    if (is_call_trace_label(line)) {
        sc->in_trace = true;
        sc->irq_depth = 0;
        return changed;
    }
    if (ends_trace(line)) {
        sc->in_trace = false;
        return changed;
    }
    bool module = false;
    char *fn = match_register_function(line, &module);
    if (!fn && sc->family == FAMILY_LOCKDEP)
        fn = match_lockdep_at(sc, line, &module);
    if (!fn && sc->in_trace)
        fn = match_frame(sc, line, &module);
    if (!fn)
        return changed;
    if (anchors && anchor_frame(sc, fn, module, &changed))
        return changed;
    /* the first non-helper frame, unless a later one is an out-of-tree
     * module's; a SLUB tracking line's module frame gives way to the call
     * trace's own module frame only */
    if (skipped(sc, fn, module) || (sc->function_from_track && !module) ||
        (sc->function && !sc->function_from_track && !(module && sc->prefer_module && !sc->function_module))) {
        free(fn);
        return changed;
    }
    sc->function_from_track = false;
    return set_function(sc, fn, module) || changed;
}

static size_t window_of(report_family family)
{
    switch (family) {
    case FAMILY_LOCKDEP:
    case FAMILY_LOCKDEP_TRACE:
        return LOCKDEP_WINDOW_LINES;
    case FAMILY_OOM:
        return OOM_WINDOW_LINES;
    default:
        return REPORT_WINDOW_LINES;
    }
}

/* The first report (or the one that replaces an OOM kill) starts: takes h. */
static bool start_report(lg_scanner *sc, header *h, const char *line)
{
    free(sc->kind);
    free(sc->function);
    free(sc->oom_killed);
    free(sc->stall_prev);
    sc->stall_prev = NULL;
    sc->hit = true;
    sc->hit_line = sc->line_no;
    sc->kind = h->fixed ? LG_STEAL(h->kind) : strip_variable(h->kind);
    free(h->kind);
    sc->function = h->function;
    sc->function_module = h->function_module;
    sc->oom_killed = h->killed;
    sc->family = (int)h->family;
    sc->oom_kill = h->family == FAMILY_OOM && !sc->oom_kill && !starts_with(line, "Kernel panic");
    sc->replaceable = false;
    sc->stall = h->family == FAMILY_STALL;
    sc->anchored = false;
    sc->at_next_line = false;
    sc->irq_depth = 0;
    /* KMSAN and KFENCE print their stack right after the header */
    sc->in_trace = h->family == FAMILY_STACK;
    sc->window = window_of(h->family);
    sc->window_start = sc->line_no;
    sc->prefer_module = names_out_of_tree_module(line);
    sc->extra_skip = extra_skip_for(sc->kind);
    sc->hung = starts_with(sc->kind, "INFO: task ");
    sc->function_from_track = false;
    sc->kasan = starts_with(sc->kind, "BUG: KASAN: ");
    /* a bad free says "Free of addr": no access to name */
    sc->kasan_access_due = sc->kasan && !strstr(sc->kind, "double-free") && !strstr(sc->kind, "invalid-free");
    sc->access = NULL;
    if (sc->function && !sc->function_module && lg_frame_contains_any(sc->function, sc->extra_skip)) {
        free(sc->function);
        sc->function = NULL;
    }
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
        return start_report(sc, &h, line);
    }
    /* The OOM killer at work is no kernel bug of its own: a report that
     * follows one (once) is the crash, and takes its place. */
    if ((sc->oom_kill || sc->replaceable) && !sc->bsod) {
        header h;
        if (match_header(line, &h)) {
            if (h.family != FAMILY_OOM || !sc->oom_kill)
                return start_report(sc, &h, line);
            free(h.kind);
            free(h.function);
            free(h.killed);
        }
    }
    if (sc->bsod)
        return sc->line_no - sc->hit_line <= REPORT_WINDOW_LINES && refine_bsod(sc, line);
    /* kmemleak's summary line, then the objects (from debugfs, maybe much
     * later): the first object's backtrace names the function */
    if (sc->family == FAMILY_LEAK && !sc->function &&
        (starts_with(line, "unreferenced object 0x") || starts_with(line, "kmemleak: unreferenced object 0x"))) {
        sc->window_start = sc->line_no;
        sc->in_trace = false;
    }
    /* Only the first report decides; later lines can only complete its title. */
    if (sc->line_no - sc->window_start > sc->window)
        return false;
    return refine_linux(sc, line);
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
