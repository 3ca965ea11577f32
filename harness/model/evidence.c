#include "evidence.h"

#include <stdlib.h>

#include "base/buf.h"
#include "base/mem.h"

void lg_evidence_init(lg_evidence *ev)
{
    *ev = LG_EVIDENCE_INIT;
}

void lg_evidence_clear(lg_evidence *ev)
{
    for (size_t i = 0; i < ev->n_signals; i++)
        free(ev->signals[i].title);
    free(ev->signals);
    free(ev->title);
    free(ev->console_excerpt);
    lg_evidence_init(ev);
}

void lg_evidence_mark_baseline(lg_evidence *ev)
{
    if (ev->baseline || !lg_verdict_blocks(ev->verdict))
        return;
    char *title = lg_strdup_printf("baseline: the guest image failed before the candidate was installed: %s %s",
                                   lg_verdict_name(ev->verdict), ev->title ? ev->title : "");
    free(ev->title);
    ev->title = title;
    ev->baseline = true;
    ev->baseline_verdict = ev->verdict;
    ev->verdict = LG_VERDICT_INFRA_ERROR;
}

void lg_evidence_copy(lg_evidence *dst, const lg_evidence *src)
{
    *dst = *src;
    dst->title = src->title ? lg_strdup(src->title) : NULL;
    dst->console_excerpt = src->console_excerpt ? lg_strdup(src->console_excerpt) : NULL;
    dst->signals = src->n_signals ? lg_calloc(src->n_signals, sizeof(*dst->signals)) : NULL;
    for (size_t i = 0; i < src->n_signals; i++) {
        dst->signals[i] = src->signals[i];
        dst->signals[i].title = src->signals[i].title ? lg_strdup(src->signals[i].title) : NULL;
    }
}
