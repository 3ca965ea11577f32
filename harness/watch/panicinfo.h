/* QEMU's GUEST_PANICKED event details (libvirt's QEMU monitor events): for a
 * Windows guest with hyper-v crash MSRs they carry the bugcheck code and
 * its four parameters.  Pure parsing, no JSON library: the shape is fixed
 * by QEMU's QAPI schema (GuestPanicInformationHyperV). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

typedef struct lg_panic_info {
    bool hyperv;          /* info.type == "hyper-v" */
    uint64_t arg[5];      /* arg1 = bugcheck code, arg2..arg5 = parameters */
} lg_panic_info;

/* Parses the event's data object ({"action":..., "info":{...}}).  Returns
 * false when there is no hyper-v information (a Linux pvpanic, s390). */
bool lg_panic_info_parse(const char *details_json, lg_panic_info *out);
/* "BSOD 0x50 PAGE_FAULT_IN_NONPAGED_AREA"; NULL when out of memory. */
char *lg_panic_info_title(const lg_panic_info *info);
/* "0x50 (0xfffff8000abcd000, 0x0, 0xfffff80001234567, 0x2)" for evidence. */
char *lg_panic_info_describe(const lg_panic_info *info);
