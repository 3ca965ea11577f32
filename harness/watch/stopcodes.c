#include "stopcodes.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/mem.h"

/* The bugchecks an endpoint-security driver and its content can cause, plus
 * the ones a boot or a test harness meets (boot device, manual crash,
 * watchdogs).  Names as Microsoft's bugcodes.h spells them (cross-checked
 * with ReactOS's bugcodes.mc); sorted by code. */
static const struct {
    uint32_t code;
    const char *name;
} STOPCODES[] = {
    { 0x00000001, "APC_INDEX_MISMATCH" },
    { 0x0000000A, "IRQL_NOT_LESS_OR_EQUAL" },
    { 0x00000012, "TRAP_CAUSE_UNKNOWN" },
    { 0x00000018, "REFERENCE_BY_POINTER" },
    { 0x00000019, "BAD_POOL_HEADER" },
    { 0x0000001A, "MEMORY_MANAGEMENT" },
    { 0x0000001E, "KMODE_EXCEPTION_NOT_HANDLED" },
    { 0x00000020, "KERNEL_APC_PENDING_DURING_EXIT" },
    { 0x00000023, "FAT_FILE_SYSTEM" },
    { 0x00000024, "NTFS_FILE_SYSTEM" },
    { 0x0000002E, "DATA_BUS_ERROR" },
    { 0x00000034, "CACHE_MANAGER" },
    { 0x00000035, "NO_MORE_IRP_STACK_LOCATIONS" },
    { 0x0000003B, "SYSTEM_SERVICE_EXCEPTION" },
    { 0x0000003D, "INTERRUPT_EXCEPTION_NOT_HANDLED" },
    { 0x0000003F, "NO_MORE_SYSTEM_PTES" },
    { 0x00000044, "MULTIPLE_IRP_COMPLETE_REQUESTS" },
    { 0x0000004E, "PFN_LIST_CORRUPT" },
    { 0x00000050, "PAGE_FAULT_IN_NONPAGED_AREA" },
    { 0x00000051, "REGISTRY_ERROR" },
    { 0x0000005A, "CRITICAL_SERVICE_FAILED" },
    { 0x0000005C, "HAL_INITIALIZATION_FAILED" },
    { 0x0000006B, "PROCESS1_INITIALIZATION_FAILED" },
    { 0x00000074, "BAD_SYSTEM_CONFIG_INFO" },
    { 0x00000077, "KERNEL_STACK_INPAGE_ERROR" },
    { 0x0000007A, "KERNEL_DATA_INPAGE_ERROR" },
    { 0x0000007B, "INACCESSIBLE_BOOT_DEVICE" },
    { 0x0000007E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED" },
    { 0x0000007F, "UNEXPECTED_KERNEL_MODE_TRAP" },
    { 0x0000008E, "KERNEL_MODE_EXCEPTION_NOT_HANDLED" },
    { 0x0000009C, "MACHINE_CHECK_EXCEPTION" },
    { 0x0000009F, "DRIVER_POWER_STATE_FAILURE" },
    { 0x000000A0, "INTERNAL_POWER_ERROR" },
    { 0x000000A5, "ACPI_BIOS_ERROR" },
    { 0x000000BE, "ATTEMPTED_WRITE_TO_READONLY_MEMORY" },
    { 0x000000C1, "SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION" },
    { 0x000000C2, "BAD_POOL_CALLER" },
    { 0x000000C4, "DRIVER_VERIFIER_DETECTED_VIOLATION" },
    { 0x000000C5, "DRIVER_CORRUPTED_EXPOOL" },
    { 0x000000C6, "DRIVER_CAUGHT_MODIFYING_FREED_POOL" },
    { 0x000000C7, "TIMER_OR_DPC_INVALID" },
    { 0x000000C8, "IRQL_UNEXPECTED_VALUE" },
    { 0x000000C9, "DRIVER_VERIFIER_IOMANAGER_VIOLATION" },
    { 0x000000CA, "PNP_DETECTED_FATAL_ERROR" },
    { 0x000000CB, "DRIVER_LEFT_LOCKED_PAGES_IN_PROCESS" },
    { 0x000000CC, "PAGE_FAULT_IN_FREED_SPECIAL_POOL" },
    { 0x000000CD, "PAGE_FAULT_BEYOND_END_OF_ALLOCATION" },
    { 0x000000CE, "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS" },
    { 0x000000D0, "DRIVER_CORRUPTED_MMPOOL" },
    { 0x000000D1, "DRIVER_IRQL_NOT_LESS_OR_EQUAL" },
    { 0x000000D3, "DRIVER_PORTION_MUST_BE_NONPAGED" },
    { 0x000000D5, "DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL" },
    { 0x000000D6, "DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION" },
    { 0x000000DA, "SYSTEM_PTE_MISUSE" },
    { 0x000000E2, "MANUALLY_INITIATED_CRASH" },
    { 0x000000E6, "DRIVER_VERIFIER_DMA_VIOLATION" },
    { 0x000000EA, "THREAD_STUCK_IN_DEVICE_DRIVER" },
    { 0x000000ED, "UNMOUNTABLE_BOOT_VOLUME" },
    { 0x000000EF, "CRITICAL_PROCESS_DIED" },
    { 0x000000F4, "CRITICAL_OBJECT_TERMINATION" },
    { 0x000000F6, "PCI_VERIFIER_DETECTED_VIOLATION" },
    { 0x000000F7, "DRIVER_OVERRAN_STACK_BUFFER" },
    { 0x000000FC, "ATTEMPTED_EXECUTE_OF_NOEXECUTE_MEMORY" },
    { 0x000000FE, "BUGCODE_USB_DRIVER" },
    { 0x00000101, "CLOCK_WATCHDOG_TIMEOUT" },
    { 0x00000109, "CRITICAL_STRUCTURE_CORRUPTION" },
    { 0x0000010D, "WDF_VIOLATION" },
    { 0x00000116, "VIDEO_TDR_FAILURE" },
    { 0x00000124, "WHEA_UNCORRECTABLE_ERROR" },
    { 0x00000133, "DPC_WATCHDOG_VIOLATION" },
    { 0x00000139, "KERNEL_SECURITY_CHECK_FAILURE" },
    { 0x0000013A, "KERNEL_MODE_HEAP_CORRUPTION" },
    { 0x00000154, "UNEXPECTED_STORE_EXCEPTION" },
    { 0x1000007E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M" },
    { 0x1000008E, "KERNEL_MODE_EXCEPTION_NOT_HANDLED_M" },
    { 0x100000EA, "THREAD_STUCK_IN_DEVICE_DRIVER_M" },
    { 0xC000021A, "STATUS_SYSTEM_PROCESS_TERMINATED" },
    { 0xC0000221, "STATUS_IMAGE_CHECKSUM_MISMATCH" },
    { 0xDEADDEAD, "MANUALLY_INITIATED_CRASH1" },
};

/* The bugchecks Driver Verifier raises for a driver it verifies (policy
 * driver-verifier): its checks' own codes, and those special pool and pool
 * tracking turn a driver's memory bug into. */
static const uint32_t VERIFIER_CODES[] = {
    0xC1, 0xC4, 0xC6, 0xC7, 0xC8, 0xC9, 0xCB, 0xCC, 0xCD, 0xCE, 0xD5, 0xD6, 0xDA, 0xE6, 0xF6,
};

bool lg_stopcode_is_verifier(uint32_t code)
{
    for (size_t i = 0; i < LG_N_ELEMENTS(VERIFIER_CODES); i++)
        if (VERIFIER_CODES[i] == code)
            return true;
    return false;
}

const char *lg_stopcode_name(uint32_t code)
{
    for (size_t i = 0; i < LG_N_ELEMENTS(STOPCODES); i++)
        if (STOPCODES[i].code == code)
            return STOPCODES[i].name;
    return "UNKNOWN_BUGCHECK";
}

bool lg_stopcode_lookup(const char *name, uint32_t *code)
{
    for (size_t i = 0; name && i < LG_N_ELEMENTS(STOPCODES); i++) {
        if (strcmp(STOPCODES[i].name, name) == 0) {
            *code = STOPCODES[i].code;
            return true;
        }
    }
    return false;
}

char *lg_stopcode_driver_name(const char *driver)
{
    if (!driver)
        return NULL;
    const char *base = driver;
    for (const char *p = driver; *p; p++)
        if (*p == '\\' || *p == '/')
            base = p + 1;
    base += strspn(base, " \t\"'(<");
    size_t len = strcspn(base, " \t\"'()<>,;");
    while (len && strchr(".:!", base[len - 1]))
        len--;
    if (len == 0)
        return NULL;
    char *name = lg_strndup(base, len);
    for (char *p = name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return name;
}

char *lg_stopcode_title(uint32_t code, const char *driver)
{
    LG_AUTOFREE char *drv = lg_stopcode_driver_name(driver);
    if (drv)
        return lg_strdup_printf("BSOD 0x%x %s in %s", (unsigned)code, lg_stopcode_name(code), drv);
    return lg_strdup_printf("BSOD 0x%x %s", (unsigned)code, lg_stopcode_name(code));
}
