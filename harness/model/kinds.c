#include "kinds.h"

#include <errno.h>
#include <string.h>

int lg_enum_parse(const void *table, unsigned long entry_size, int max, const char *name)
{
    if (!name)
        return -1;
    for (int v = 0; v < max; v++) {
        const char *entry = *(const char *const *)(const void *)((const char *)table + (unsigned long)v * entry_size);
        if (entry && strcmp(entry, name) == 0)
            return v;
    }
    return -1;
}

static const lg_os_info os_table[] = {
    [LG_OS_LINUX] = { "linux", "build the guest images first: guests/linux/build-image.sh" },
    [LG_OS_WINDOWS] = { "windows", "prepare your own Windows image as guests/windows/README.md says" },
};
LG_ENUM_DEFINE(lg_os, os_table, LG_OS_MAX)
const lg_os_info *lg_os_info_of(lg_os os) { return &os_table[(unsigned)os < LG_OS_MAX ? os : LG_OS_LINUX]; }

static const lg_panic_model_info panic_table[] = {
    [LG_PANIC_ISA] = { "isa", true },
    [LG_PANIC_PVPANIC_PCI] = { "pvpanic-pci", false },
    [LG_PANIC_NONE] = { "none", false },
};
LG_ENUM_DEFINE(lg_panic_model, panic_table, LG_PANIC_MAX)
const lg_panic_model_info *lg_panic_model_info_of(lg_panic_model m)
{
    return &panic_table[(unsigned)m < LG_PANIC_MAX ? m : LG_PANIC_NONE];
}

static const lg_arch_info arch_table[] = {
    [LG_ARCH_X86_64] = { "x86_64", "pc", LG_PANIC_ISA, true },
    [LG_ARCH_AARCH64] = { "aarch64", "virt", LG_PANIC_PVPANIC_PCI, false },
};
LG_ENUM_DEFINE(lg_arch, arch_table, LG_ARCH_MAX)
const lg_arch_info *lg_arch_info_of(lg_arch a) { return &arch_table[(unsigned)a < LG_ARCH_MAX ? a : LG_ARCH_X86_64]; }

static const lg_transport_kind_info transport_table[] = {
    [LG_TRANSPORT_SSH] = { "ssh", false, true },
    [LG_TRANSPORT_QGA] = { "qemu-ga", true, false },
};
LG_ENUM_DEFINE(lg_transport_kind, transport_table, LG_TRANSPORT_MAX)
const lg_transport_kind_info *lg_transport_kind_info_of(lg_transport_kind k)
{
    return &transport_table[(unsigned)k < LG_TRANSPORT_MAX ? k : LG_TRANSPORT_SSH];
}

static const lg_stress_kind_info stress_table[] = {
    [LG_STRESS_PROCESS] = { "process", "continuous fork/exec of short-lived processes" },
    [LG_STRESS_FILE] = { "file", "create, write, rename and delete churn in a directory tree" },
    [LG_STRESS_NETWORK] = { "network", "TCP connection churn and traffic over the guest's loopback" },
    [LG_STRESS_MEMORY] = { "memory", "repeated allocation close to the guest's free memory" },
    [LG_STRESS_CPU] = { "cpu", "every vCPU busy" },
    [LG_STRESS_IO] = { "io", "disk writes with fsync" },
};
LG_ENUM_DEFINE(lg_stress_kind, stress_table, LG_STRESS_MAX)
const lg_stress_kind_info *lg_stress_kind_info_of(lg_stress_kind k)
{
    return &stress_table[(unsigned)k < LG_STRESS_MAX ? k : LG_STRESS_CPU];
}
