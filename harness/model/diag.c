#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clean.h"
#include "base/mem.h"

void lg_diags_add(lg_diags *diags, const char *file, int line, bool warning, const char *fmt, ...)
{
    lg_diag *items = lg_realloc_n(diags->items, diags->n + 1, sizeof(*items));
    diags->items = items;
    lg_buf msg = LG_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    lg_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    /* libxml2 messages end in a newline; one line per problem reads better */
    while (msg.len && (msg.data[msg.len - 1] == '\n' || msg.data[msg.len - 1] == ' '))
        msg.data[--msg.len] = '\0';
    items[diags->n++] = (lg_diag){
        .file = lg_strdup(file ? file : "<input>"),
        .line = line,
        .warning = warning,
        .message = lg_buf_steal(&msg),
    };
}

size_t lg_diags_errors(const lg_diags *diags)
{
    size_t n = 0;
    for (size_t i = 0; i < diags->n; i++)
        n += !diags->items[i].warning;
    return n;
}

void lg_diags_print(const lg_diags *diags, FILE *out)
{
    for (size_t i = 0; i < diags->n; i++) {
        const lg_diag *d = &diags->items[i];
        /* messages quote the input (an id, a run.xml's verdict, libxml2's
         * excerpt of a bad line), which may hold a guest's bytes */
        LG_AUTOFREE char *file = lg_clean_term(d->file);
        LG_AUTOFREE char *message = lg_clean_term(d->message);
        if (d->line > 0)
            fprintf(out, "%s:%d: %s%s\n", file, d->line, d->warning ? "warning: " : "", message);
        else
            fprintf(out, "%s: %s%s\n", file, d->warning ? "warning: " : "", message);
    }
}

void lg_diags_clear(lg_diags *diags)
{
    for (size_t i = 0; i < diags->n; i++) {
        free(diags->items[i].file);
        free(diags->items[i].message);
    }
    free(diags->items);
    diags->items = NULL;
    diags->n = 0;
}
