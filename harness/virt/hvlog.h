/* libvirt's own logs of a domain: QEMU's command line and stderr, and
 * swtpm's TPM manufacturing.  libvirt writes one file per domain name beside
 * itself and never removes them; for a local connection labgate moves them
 * into the job's results, where they are evidence (an INFRA_ERROR's cause is
 * usually in QEMU's log) instead of litter. */
#pragma once
#include <stdbool.h>

typedef enum lg_hvlog_kind {
    LG_HVLOG_QEMU,
    LG_HVLOG_SWTPM,
    LG_HVLOG_KINDS
} lg_hvlog_kind;

/* Where libvirt keeps that log of DOMAIN for the connection URI; NULL when
 * the connection is not local to this machine (a remote host, test:///). */
char *lg_hvlog_path(const char *uri, const char *domain, lg_hvlog_kind kind);

/* Moves the log to DEST (rename, or copy and remove across file systems).
 * 1 moved, 0 there was none, -errno on failure (lg_error set). */
int lg_hvlog_move(const char *uri, const char *domain, lg_hvlog_kind kind, const char *dest);

/* Removes the log; 1 removed, 0 there was none, -errno on failure. */
int lg_hvlog_remove(const char *uri, const char *domain, lg_hvlog_kind kind);
