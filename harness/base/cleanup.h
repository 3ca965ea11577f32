/* Scope-bound ownership: a variable marked LG_AUTOFREE / LG_AUTO(type) is
 * released when it leaves scope unless ownership was handed on with
 * LG_STEAL().  Every destructor used here accepts NULL. */
#pragma once
#include <stdlib.h>
#include <unistd.h>

static inline void lg_autofree_cleanup(void *p) { free(*(void **)p); }
static inline void lg_autoclose_cleanup(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}

#define LG_AUTOFREE __attribute__((cleanup(lg_autofree_cleanup)))
#define LG_AUTOCLOSE __attribute__((cleanup(lg_autoclose_cleanup)))

/* Declares type##_autoptr_cleanup so LG_AUTO(type) can free `type *` with fn. */
#define LG_DEFINE_AUTOPTR(type, fn) \
    static inline void type##_autoptr_cleanup(type **p) { fn(*p); }
#define LG_AUTO(type) __attribute__((cleanup(type##_autoptr_cleanup))) type *

#define LG_STEAL(p) ({ __typeof__(p) lg_stolen_ = (p); (p) = NULL; lg_stolen_; })
#define LG_STEAL_FD(fd) ({ int lg_stolen_fd_ = (fd); (fd) = -1; lg_stolen_fd_; })

#define LG_N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
