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
