/* The cancel check every transport call polls while it waits. */
#pragma once
#include <stdbool.h>

/* Returns true when the caller should stop waiting (verdict reached, Ctrl-C). */
typedef bool (*lg_cancel_fn)(void *opaque);
