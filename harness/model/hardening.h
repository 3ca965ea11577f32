/* Policies that make a guest's kernel catch more of the agent's bugs,
 * without a debug build: hardening="slub" on Linux (the stock kernel's SLUB
 * debugging and heap checks, on its command line), driver-verifier on
 * Windows (Driver Verifier for the build's drivers; the commands are in
 * guest/oscmd.c).  Each applies to one OS: a matrix that asks for it on a
 * guest of another OS is refused (lg_policy_check_guest_os). */
#pragma once
#include <stdbool.h>

#include "kinds.h"

typedef enum { LG_HARDENING_NONE, LG_HARDENING_SLUB, LG_HARDENING_MAX } lg_hardening;
typedef struct lg_hardening_info {
    const char *name;
    /* what the guest kernel's command line gets ("" none) */
    const char *linux_cmdline;
} lg_hardening_info;
LG_ENUM_DECLARE(lg_hardening)
const lg_hardening_info *lg_hardening_info_of(lg_hardening h);

typedef enum {
    LG_VERIFIER_NONE,
    LG_VERIFIER_STANDARD,     /* verifier /standard: the standard checks */
    LG_VERIFIER_SPECIAL_POOL, /* verifier /flags 0x1: special pool, every allocation at a page end */
    LG_VERIFIER_MAX
} lg_driver_verifier;
typedef struct lg_driver_verifier_info {
    const char *name;
    const char *flags;        /* verifier.exe's flags argument, NULL for none */
} lg_driver_verifier_info;
LG_ENUM_DECLARE(lg_driver_verifier)
const lg_driver_verifier_info *lg_driver_verifier_info_of(lg_driver_verifier v);
