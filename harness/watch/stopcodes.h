/* Windows bugcheck ("stop") codes: names and canonical crash titles.
 *
 * One title format for every path a stop code reaches the harness by (the
 * EMS/SAC text on the serial console, the hyper-v crash MSRs that QEMU
 * reports with GUEST_PANICKED), so the same bugcheck gets the same title:
 *
 *     BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA
 *     BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA in sampledrv.sys
 *
 * The code is lowercase hex without leading zeros; the driver is the file
 * name only, lowercased (Windows file names ignore case, and the screen
 * shows them in whatever case the loader recorded). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* The symbolic name ("PAGE_FAULT_IN_NONPAGED_AREA"); "UNKNOWN_BUGCHECK" for
 * codes not in the table.  Never NULL. */
const char *lg_stopcode_name(uint32_t code);

/* Whether Driver Verifier raises this bugcheck for a driver it verifies
 * (0xC4 DRIVER_VERIFIER_DETECTED_VIOLATION, 0xC1 special pool corruption,
 * 0xD6 a page fault beyond the end of an allocation, ...). */
bool lg_stopcode_is_verifier(uint32_t code);

/* Reverse lookup ("PAGE_FAULT_IN_NONPAGED_AREA" -> 0x50, exact and
 * case-sensitive, as the screen prints it).  false when not in the table;
 * *code is then left alone. */
bool lg_stopcode_lookup(const char *name, uint32_t *code);

/* "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA[ in driver.sys]"; driver may be
 * NULL or empty, or a path ("\SystemRoot\System32\drivers\CSAgent.sys"
 * gives "csagent.sys").  Never NULL. */
char *lg_stopcode_title(uint32_t code, const char *driver);

/* Canonical driver name as used in titles (file name, lowercase, no
 * trailing punctuation); NULL when driver has no usable name. */
char *lg_stopcode_driver_name(const char *driver);
