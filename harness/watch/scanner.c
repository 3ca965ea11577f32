#include "scanner.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

#define MAX_LINE 4096
/* A report names its function within a few dozen lines of its header. */
#define REPORT_WINDOW_LINES 80

struct lg_scanner {
    char line[MAX_LINE + 1];
    size_t line_len;
    bool line_truncated;
    bool after_cr; /* the last line ended in CR: a LF right after it is the same line end */
    size_t line_no;

    bool hit;
    size_t hit_line;
    char *kind;     /* e.g. "BUG: kernel NULL pointer dereference" */
    char *function; /* guilty function, once seen */
    char *title;

    lg_scanner_line_fn line_fn;
    void *line_opaque;
};

lg_scanner *lg_scanner_new(void)
{
    return calloc(1, sizeof(lg_scanner));
}

void lg_scanner_free(lg_scanner *sc)
{
    if (!sc)
        return;
    free(sc->kind);
    free(sc->function);
    free(sc->title);
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

/* Drops "[   12.345678] " and "<4>" prefixes (and a printk caller id). */
static const char *strip_prefix(const char *s)
{
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '<' && isdigit((unsigned char)s[1]) && s[2] == '>') {
            s += 3;
            continue;
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

/* Drops numbers, addresses and bracketed counters ("[#1]", "[sampledrv]"),
 * collapses blanks and trailing punctuation, so only the words that identify
 * the kind of failure remain. */
static char *strip_variable(const char *s)
{
    lg_buf out = LG_BUF_INIT;
    for (const char *p = s; *p;) {
        p += strspn(p, " \t");
        size_t len = strcspn(p, " \t");
        if (len == 0)
            break;
        bool bracketed = p[0] == '[' && p[len - 1] == ']';
        if (!bracketed && !is_number_token(p, len)) {
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
    return strdup(k);
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

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

/* The kind of crash a header line starts, or NULL. */
static char *match_header(const char *line)
{
    if (suppressed(line))
        return NULL;
    if (starts_with(line, "BUG: ")) {
        /* "BUG: unable to handle page fault for address: X", "BUG: kernel NULL
         * pointer dereference, address: X": the address part varies */
        const char *addr = strstr(line, " for address");
        if (!addr)
            addr = strstr(line, ", address");
        if (addr)
            return strndup(line, (size_t)(addr - line));
        const char *at = strstr(line, " at ");
        if (starts_with(line, "BUG: unable to handle kernel") && at)
            return strndup(line, (size_t)(at - line));
        return strdup(line);
    }
    if (starts_with(line, "kernel BUG at ")) {
        const char *colon = strrchr(line, ':');
        return colon ? strndup(line, (size_t)(colon - line)) : strdup(line);
    }
    if (starts_with(line, "general protection fault"))
        return strdup("general protection fault");
    if (starts_with(line, "Oops: ") || starts_with(line, "Oops "))
        return strdup("Oops");
    if (starts_with(line, "Kernel panic - not syncing"))
        return strdup(line);
    /* arm64: "Unable to handle kernel NULL pointer dereference at virtual
     * address 0000000000000008" (or "... paging request at ..."), and
     * "Internal error: Oops: 0000000096000004 [#1] PREEMPT SMP" */
    if (starts_with(line, "Unable to handle kernel ")) {
        const char *at = strstr(line, " at virtual address");
        return at ? strndup(line, (size_t)(at - line)) : strdup(line);
    }
    if (starts_with(line, "Internal error: ")) {
        const char *colon = strchr(line + strlen("Internal error: "), ':');
        return colon ? strndup(line, (size_t)(colon - line)) : strdup(line);
    }
    return NULL;
}

/* "RIP: 0010:sampledrv_parse_record+0x2a/0x90 [sampledrv]" or arm64 "pc : fn+0x..". */
static char *match_function(const char *line)
{
    const char *p = NULL;
    if (starts_with(line, "RIP: ")) {
        p = line + 5;
        const char *colon = strchr(p, ':');
        if (colon && colon - p <= 5)
            p = colon + 1;
    } else if (starts_with(line, "pc : ")) {
        p = line + 5;
    } else {
        return NULL;
    }
    size_t n = strcspn(p, "+ ");
    if (n == 0 || p[n] != '+')
        return NULL; /* "RIP: 0033:0x7f..." is userspace, no symbol */
    return strndup(p, n);
}

static bool set_title(lg_scanner *sc)
{
    LG_AUTOFREE char *t = lg_scanner_canonical_title(sc->kind, sc->function);
    if (sc->title && strcmp(sc->title, t) == 0)
        return false;
    free(sc->title);
    sc->title = LG_STEAL(t);
    return true;
}

static bool scan_line(lg_scanner *sc, const char *raw)
{
    sc->line_no++;
    const char *line = strip_prefix(raw);
    if (sc->line_fn)
        sc->line_fn(sc->line_opaque, line, sc->line_no);

    if (!sc->hit) {
        char *kind = match_header(line);
        if (!kind)
            return false;
        sc->hit = true;
        sc->hit_line = sc->line_no;
        sc->kind = kind;
        return set_title(sc);
    }
    /* Only the first report decides; later lines can only name its function. */
    if (sc->function || sc->line_no - sc->hit_line > REPORT_WINDOW_LINES)
        return false;
    char *fn = match_function(line);
    if (!fn)
        return false;
    sc->function = fn;
    return set_title(sc);
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
    if (sc->line_len == 0)
        return false;
    sc->line[sc->line_len] = '\0';
    sc->line_len = 0;
    return scan_line(sc, sc->line);
}
