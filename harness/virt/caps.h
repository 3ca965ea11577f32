/* What a host's hypervisor can run, from its capabilities (libvirt's
 * <capabilities> document): the run's host check asks it for every guest
 * architecture and machine type its jobs need before any job starts. */
#pragma once
#include <stdbool.h>

#include "conn.h"

/* Whether caps_xml (a <capabilities> document) has hvm guests of arch
 * (libvirt's name: x86_64, aarch64) with machine type machine (NULL: any;
 * a name or an alias such as "pc" or "virt") under domain type
 * domain_type ("qemu" for TCG, "kvm").  0, -ENOTSUP with a message saying
 * what is missing, or -EINVAL when caps_xml is no capabilities document. */
int lg_caps_guest_check(const char *caps_xml, const char *arch, const char *machine, const char *domain_type);
/* The same, asking conn's host.  -EIO when libvirt does not answer. */
int lg_conn_guest_check(lg_conn *conn, const char *arch, const char *machine, const char *domain_type);
