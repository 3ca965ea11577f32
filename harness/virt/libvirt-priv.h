/* What only virt/ and the qemu-ga transport see: libvirt's own handles.
 * Nothing in run/, watch/ or model/ includes this (or any libvirt header):
 * virt/ turns libvirt into typed events and opaque handles. */
#pragma once
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "conn.h"
#include "domain.h"

/* The current connection (a reconnect replaces it; a replaced one stays
 * valid, if closed, until lg_conn_free). */
virConnectPtr lg_conn_virt(lg_conn *conn);
/* The current handle (a reconnect replaces it; a replaced one stays valid
 * until the domain is freed). */
virDomainPtr lg_domain_virt(lg_domain *dom);
/* Destroys (if running) and undefines any domain, with its UEFI varstore
 * and TPM state: what lg_domain_free and `labgate gc` both do.  0, or -EIO
 * with the message set. */
int lg_virt_domain_remove(virDomainPtr dom);
/* Records libvirt's last error message via lg_error_set, prefixed by what. */
void lg_virt_error(const char *what);
