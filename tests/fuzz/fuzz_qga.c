/* libFuzzer target: qemu-guest-agent replies as the guest sends them: the
 * guest-exec-status reader (guest/qga.c) and the JSON and base64 readers
 * under it (base/json.c). */
#include <stdint.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "guest/qga.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* libvirt hands the reply over as a C string */
    char *reply = lg_strndup((const char *)data, size);

    lg_buf output = LG_BUF_INIT;
    bool exited = false;
    int status = 0;
    lg_qga_parse_exec_status(reply, &exited, &status, &output);
    lg_buf_free(&output);

    int64_t n;
    bool b;
    char *s = NULL;
    lg_json_int(reply, "return.pid", &n);
    lg_json_int(reply, "return", &n);
    lg_json_bool(reply, "return.eof", &b);
    if (lg_json_string(reply, "return.buf-b64", &s) == 0) {
        unsigned char *bytes = NULL;
        size_t len = 0;
        if (lg_base64_decode(s, &bytes, &len) == 0)
            free(bytes);
        free(s);
    }
    if (lg_json_string(reply, "error.desc", &s) == 0)
        free(s);
    free(reply);
    return 0;
}
