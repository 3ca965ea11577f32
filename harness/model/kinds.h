/* The enums a guest profile is made of (OS, arch, transport, panic model),
 * parsed once here from their names; nothing above model/ compares the
 * names as strings.  Each enum has one table with its name and every
 * property, and a _MAX sentinel that sizes arrays. */
#pragma once
#include <stdbool.h>

/* Table-driven name <-> value helpers: every table's entries start with
 * `const char *name`.  lg_enum_parse returns the value, or -1. */
int lg_enum_parse(const void *table, unsigned long entry_size, int max, const char *name);
#define LG_ENUM_DECLARE(type)                                                                                  \
    const char *type##_name(type v);                                                                           \
    /* 0, or -EINVAL (out untouched) */                                                                        \
    int type##_parse(const char *name, type *out);
#define LG_ENUM_DEFINE(type, table, max)                                                                       \
    _Static_assert(sizeof(table) / sizeof((table)[0]) == (max), #table " must have an entry per value");       \
    const char *type##_name(type v)                                                                            \
    {                                                                                                          \
        return (unsigned)v < (unsigned)(max) ? (table)[v].name : "?";                                          \
    }                                                                                                          \
    int type##_parse(const char *name, type *out)                                                              \
    {                                                                                                          \
        int v = lg_enum_parse((table), sizeof((table)[0]), (max), name);                                       \
        if (v < 0)                                                                                             \
            return -EINVAL;                                                                                    \
        *out = (type)v;                                                                                        \
        return 0;                                                                                              \
    }

typedef enum { LG_OS_LINUX, LG_OS_WINDOWS, LG_OS_MAX } lg_os;
typedef struct lg_os_info {
    const char *name;
    const char *image_help; /* what to do when the profile's image is missing */
} lg_os_info;
LG_ENUM_DECLARE(lg_os)
const lg_os_info *lg_os_info_of(lg_os os);

typedef enum { LG_PANIC_ISA, LG_PANIC_PVPANIC_PCI, LG_PANIC_NONE, LG_PANIC_MAX } lg_panic_model;
typedef struct lg_panic_model_info {
    const char *name;
    bool x86_only;
} lg_panic_model_info;
LG_ENUM_DECLARE(lg_panic_model)
const lg_panic_model_info *lg_panic_model_info_of(lg_panic_model model);

typedef enum { LG_ARCH_X86_64, LG_ARCH_AARCH64, LG_ARCH_MAX } lg_arch;
typedef struct lg_arch_info {
    const char *name;             /* libvirt's <type arch> and QEMU's */
    const char *default_machine;
    lg_panic_model default_panic; /* a panic device the arch's guests can all use */
    bool x86;
} lg_arch_info;
LG_ENUM_DECLARE(lg_arch)
const lg_arch_info *lg_arch_info_of(lg_arch arch);

typedef enum { LG_TRANSPORT_SSH, LG_TRANSPORT_QGA, LG_TRANSPORT_MAX } lg_transport_kind;
typedef struct lg_transport_kind_info {
    const char *name;
    /* its commands die with the guest's agent: a reboot must be detached */
    bool reboot_detached;
    /* reaches the guest through its network (a forwarded port) */
    bool needs_network;
} lg_transport_kind_info;
LG_ENUM_DECLARE(lg_transport_kind)
const lg_transport_kind_info *lg_transport_kind_info_of(lg_transport_kind kind);

/* The load of a <stress> step (guest/oscmd.c builds its command per OS). */
typedef enum {
    LG_STRESS_PROCESS,
    LG_STRESS_FILE,
    LG_STRESS_NETWORK,
    LG_STRESS_MEMORY,
    LG_STRESS_CPU,
    LG_STRESS_IO,
    LG_STRESS_MAX
} lg_stress_kind;
typedef struct lg_stress_kind_info {
    const char *name;
    const char *what; /* for a person: what the guest goes through */
} lg_stress_kind_info;
LG_ENUM_DECLARE(lg_stress_kind)
const lg_stress_kind_info *lg_stress_kind_info_of(lg_stress_kind kind);
