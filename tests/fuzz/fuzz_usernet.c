/* libFuzzer target: what a hypervisor and a matrix hand virt/ as text: QEMU's
 * `info usernet` table (virt/usernet.c) and a host's libvirt URI
 * (virt/remote.c). */
#include <stdint.h>
#include <stdlib.h>

#include "base/mem.h"
#include "virt/remote.h"
#include "virt/usernet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = lg_strndup((const char *)data, size);
    int port = 0;
    lg_usernet_hostfwd_port(text, 22, &port);
    lg_uri_is_remote(text);
    lg_uri_is_session(text);
    lg_host_ssh ssh;
    if (lg_uri_host_ssh(text, &ssh) == 0)
        lg_host_ssh_clear(&ssh);
    free(lg_uri_remote_log_path(text, "labgate-r-j", false));
    free(text);
    return 0;
}
