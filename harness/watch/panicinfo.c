#include "panicinfo.h"

#include "base/buf.h"
#include "stopcodes.h"

char *lg_panic_info_title(const lg_panic_info *info)
{
    /* bugcheck codes are 32-bit; the MSR is 64 */
    return lg_stopcode_title((uint32_t)info->arg[0], NULL);
}

char *lg_panic_info_describe(const lg_panic_info *info)
{
    return lg_strdup_printf("0x%llx (0x%llx, 0x%llx, 0x%llx, 0x%llx)", (unsigned long long)info->arg[0],
                            (unsigned long long)info->arg[1], (unsigned long long)info->arg[2],
                            (unsigned long long)info->arg[3], (unsigned long long)info->arg[4]);
}
