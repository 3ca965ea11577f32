#include "hardening.h"

#include <errno.h>
#include <stddef.h>

/* hardening="slub": what Debian 12's stock cloud kernels (6.1, amd64 and
 * arm64; their configs checked) support without a debug build:
 * - slub_debug=FZPU (CONFIG_SLUB_DEBUG=y): sanity checks on every free (F),
 *   red zones around each object (Z), poisoning of free objects (P) and
 *   the allocating and freeing call sites (U, with CONFIG_STACKDEPOT=y): a
 *   heap overflow write or a write after free becomes a "BUG <cache>
 *   (...): Right Redzone overwritten" / "Poison overwritten" report naming
 *   where the object came from;
 * - slab_nomerge: every cache its own slabs, so an overflow stays next to
 *   its own kind of object and the report names the right cache;
 * - init_on_free=1: freed pages and objects zeroed, so a read after free
 *   sees zeros, not the old data.
 * Not given, because these kernels lack them: page_poison
 * (CONFIG_PAGE_POISONING), debug_pagealloc (CONFIG_DEBUG_PAGEALLOC), KFENCE
 * (CONFIG_KFENCE).  CONFIG_SLAB_FREELIST_HARDENED, CONFIG_DEBUG_LIST and
 * CONFIG_BUG_ON_DATA_CORRUPTION are always on in them. */
static const lg_hardening_info hardening_table[] = {
    [LG_HARDENING_NONE] = { "none", "" },
    [LG_HARDENING_SLUB] = { "slub", "slub_debug=FZPU slab_nomerge init_on_free=1" },
};
LG_ENUM_DEFINE(lg_hardening, hardening_table, LG_HARDENING_MAX)
const lg_hardening_info *lg_hardening_info_of(lg_hardening h)
{
    return &hardening_table[(unsigned)h < LG_HARDENING_MAX ? h : LG_HARDENING_NONE];
}

/* Driver Verifier's flags (verifier.exe /flags): 0x1 special pool, 0x2
 * force IRQL checking, 0x8 pool tracking, 0x10 I/O verification, 0x20
 * deadlock detection, 0x80 DMA checking, 0x100 security checks, 0x800
 * miscellaneous checks, 0x20000 DDI compliance checking: /standard is
 * 0x209BB (special pool among them). */
static const lg_driver_verifier_info verifier_table[] = {
    [LG_VERIFIER_NONE] = { "none", NULL },
    [LG_VERIFIER_STANDARD] = { "standard", "/standard" },
    [LG_VERIFIER_SPECIAL_POOL] = { "special-pool", "/flags 0x1" },
};
LG_ENUM_DEFINE(lg_driver_verifier, verifier_table, LG_VERIFIER_MAX)
const lg_driver_verifier_info *lg_driver_verifier_info_of(lg_driver_verifier v)
{
    return &verifier_table[(unsigned)v < LG_VERIFIER_MAX ? v : LG_VERIFIER_NONE];
}
