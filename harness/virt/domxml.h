/* Builds the libvirt domain XML for one job from a guest profile. */
#pragma once
#include "model/matrix.h"

typedef struct lg_domxml_params {
    const lg_profile *profile;
    const char *name;          /* labgate-<run>-<job> */
    const char *overlay_path;  /* the job's qcow2 overlay */
    const char *kernel_path;   /* the profile's kernel and initramfs where the host has
                                * them (its storage pool); NULL: the profile's paths */
    const char *initrd_path;
    int ssh_host_port;         /* 127.0.0.1:port forwards to the guest's ssh port;
                                * 0 writes LG_DOMXML_PORT_PLACEHOLDER */
    bool ssh_port_auto;        /* QEMU binds a free port on the host's 127.0.0.1 itself
                                * (port 0, read back with virt/usernet.h); ssh_host_port unused */
    int probe_listen_port;     /* guestfwd: the guest's LG_NETPROBE_GUEST_ADDR:LG_NETPROBE_GUEST_PORT
                                * reaches labgate's listener on 127.0.0.1:port; 0 writes
                                * LG_DOMXML_PROBE_PLACEHOLDER; unused when the profile's probes are off */
    bool kvm;                  /* false: TCG */
    bool strict;               /* turn oopses, warnings and lockups into panics */
    lg_hardening hardening;    /* a Linux kernel's heap checks (model/hardening.h) */
    const char *run_id;
    const char *job_id;
    const char *run_lock;      /* the run's lock file, for `labgate gc`; or NULL */
} lg_domxml_params;

/* The kernel arguments strict mode adds. */
#define LG_STRICT_CMDLINE "oops=panic panic_on_warn=1 softlockup_panic=1 hung_task_panic=1"
/* XML namespace of the <metadata> element that marks labgate's domains. */
#define LG_METADATA_NS "urn:labgate:job"

/* What `labgate domxml` shows where a run would put a real port. */
#define LG_DOMXML_PORT_PLACEHOLDER "SSH_PORT"

/* What `labgate domxml` shows where a run would put the probe listener's port. */
#define LG_DOMXML_PROBE_PLACEHOLDER "PROBE_PORT"
/* Where the guest finds labgate's probe listener (QEMU user networking's
 * guestfwd: an address of the virtual network that only QEMU answers). */
#define LG_NETPROBE_GUEST_ADDR "10.0.2.100"
#define LG_NETPROBE_GUEST_PORT 7357

/* The guest port the domain's one host forward leads to (ssh's, or the
 * profile's <network port> under qemu-ga with the probes on). */
int lg_domxml_forwarded_port(const lg_profile *profile);

/* Returns a new XML string; NULL only when libxml2 cannot serialize the
 * document (its own allocation failed). */
char *lg_domxml_build(const lg_domxml_params *params);
