/* Titles and descriptions of a guest's own panic details (model/panicinfo
 * parses them; virt/ delivers them parsed with the PANICKED event). */
#pragma once
#include "model/panicinfo.h"

/* "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA"; never NULL. */
char *lg_panic_info_title(const lg_panic_info *info);
/* "0x50 (0xfffff8000abcd000, 0x0, 0xfffff80001234567, 0x2)" for evidence. */
char *lg_panic_info_describe(const lg_panic_info *info);
