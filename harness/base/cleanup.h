/* Scope-bound ownership: a variable marked LG_AUTOFREE / LG_AUTO(type) is
 * released when it leaves scope unless ownership was handed on with
 * LG_STEAL().  Every destructor used here accepts NULL. */
#pragma once
#include <stdlib.h>

static inline void lg_autofree_cleanup(void *p) { free(*(void **)p); }

#define LG_AUTOFREE __attribute__((cleanup(lg_autofree_cleanup)))

/* Declares type##_autoptr_cleanup so LG_AUTO(type) can free `type *` with fn. */
#define LG_DEFINE_AUTOPTR(type, fn) \
    static inline void type##_autoptr_cleanup(type **p) { fn(*p); }
#define LG_AUTO(type) __attribute__((cleanup(type##_autoptr_cleanup))) type *

#define LG_STEAL(p) ({ __typeof__(p) lg_stolen_ = (p); (p) = NULL; lg_stolen_; })

#define LG_N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
