#include "evidence.h"

#include <stdlib.h>

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
