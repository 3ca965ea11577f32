#include "usernet.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt-qemu.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "guard.h"
#include "libvirt-priv.h"

LG_LOG_INIT("virt");

#define MAX_TOKENS 10

/* Splits a line at blanks into at most max tokens; -1 when more. */
static int split(char *line, char **tokens, int max)
{
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (n == max)
            return -1;
        tokens[n++] = t;
    }
    return n;
}

/* a decimal number in [min, max], nothing else */
static bool number(const char *s, long min, long max, long *out)
{
    if (!*s || strlen(s) > 10)
        return false;
    for (const char *c = s; *c; c++)
        if (*c < '0' || *c > '9')
            return false;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (*end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int bad(const char *why, int line_no)
{
    lg_error_set("QEMU's usernet table, line %d: %s", line_no, why);
    return -EPROTO;
}

int lg_usernet_hostfwd_port(const char *text, int guest_port, int *host_port)
{
    lg_error_clear();
    if (!text || strlen(text) > LG_USERNET_REPLY_MAX) {
        lg_error_set("QEMU's usernet table: %s", text ? "too long" : "no reply");
        return -EPROTO;
    }
    LG_AUTOFREE char *copy = lg_strdup(text);
    int found = 0, line_no = 0, port = 0;
    bool header = false;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        line_no++;
        for (const char *c = line; *c; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t')
                return bad("a control character", line_no);
        /* the state may hold a blank ("UDP[236 sec]"): up to its ']' it is one field */
        char *tokens[MAX_TOKENS];
        char *proto_end = strncmp(line + strspn(line, " \t"), "TCP[", 4) == 0 ||
                          strncmp(line + strspn(line, " \t"), "UDP[", 4) == 0 ? strchr(line, ']') : NULL;
        int n;
        if (proto_end) {
            tokens[0] = line + strspn(line, " \t");
            char *rest = proto_end + 1;
            if (*rest && *rest != ' ' && *rest != '\t')
                return bad("not a row of the table", line_no);
            if (*rest)
                *rest++ = '\0';
            n = split(rest, tokens + 1, MAX_TOKENS - 1);
            n = n < 0 ? -1 : n + 1;
        } else {
            n = split(line, tokens, MAX_TOKENS);
        }
        if (n == 0)
            continue;
        if (n < 0)
            return bad("too many fields", line_no);
        /* "Hub -1 (lgnet0):" or "VLAN -1 (lgnet0):" names the network */
        if ((strcmp(tokens[0], "Hub") == 0 || strcmp(tokens[0], "VLAN") == 0) && n == 3)
            continue;
        if (strcmp(tokens[0], "Protocol[State]") == 0) {
            header = true;
            continue;
        }
        /* Protocol[State] FD SrcAddr SrcPort DstAddr DstPort RecvQ SendQ */
        if (!header || n != 8 || (strncmp(tokens[0], "TCP[", 4) != 0 && strncmp(tokens[0], "UDP[", 4) != 0))
            return bad("not a row of the table", line_no);
        long fd, src_port, dst_port, q;
        if (strcmp(tokens[1], "-1") != 0 && !number(tokens[1], 0, 1 << 20, &fd))
            return bad("the descriptor is not a number", line_no);
        if (!number(tokens[3], 0, 65535, &src_port) || !number(tokens[5], 0, 65535, &dst_port) ||
            !number(tokens[6], 0, 1L << 30, &q) || !number(tokens[7], 0, 1L << 30, &q))
            return bad("a port or queue is not a number in range", line_no);
        if (strcmp(tokens[0], "TCP[HOST_FORWARD]") != 0 || strcmp(tokens[2], "127.0.0.1") != 0 ||
            dst_port != guest_port)
            continue;
        if (src_port < 1)
            return bad("a forward without its port", line_no);
        if (found++)
            return bad("a second forward to the same guest port", line_no);
        port = (int)src_port;
    }
    if (!found) {
        lg_error_set("QEMU's usernet table has no forward from 127.0.0.1 to guest port %d", guest_port);
        return -ENOENT;
    }
    *host_port = port;
    return 0;
}

int lg_domain_hostfwd_port(lg_domain *dom, int guest_port, int64_t timeout_ms, int *host_port)
{
    lg_error_clear();
    char *reply = NULL;
    int64_t start_ms = lg_now_ms();
    lg_guard *guard = lg_guard_arm(lg_domain_virt(dom), timeout_ms, LG_GUARD_GRACE_MS, "info usernet");
    int rc = virDomainQemuMonitorCommand(lg_domain_virt(dom), "info usernet", &reply,
                                         VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP);
    if (rc < 0)
        lg_virt_error("info usernet");
    if (lg_guard_disarm(guard)) {
        lg_error_set("info usernet: QEMU did not answer within %lld s", (long long)(timeout_ms / 1000));
        free(reply);
        return -ETIMEDOUT;
    }
    if (rc < 0)
        return -EIO;
    int port = 0;
    rc = lg_usernet_hostfwd_port(reply, guest_port, &port);
    LG_DEBUG("%s: info usernet -> port %d (%d) in %lld ms", lg_domain_name(dom), port, rc,
             (long long)(lg_now_ms() - start_ms));
    free(reply);
    if (rc == 0)
        *host_port = port;
    return rc;
}
