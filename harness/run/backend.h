/* What a job needs of the hypervisor and of the guest, behind one small
 * interface.  run/backend.c drives libvirt and the guest transports; unit
 * tests drive whole jobs with fakes (tests/unit/test_job.c).  Every call
 * returns 0 or a negative errno with lg_error set, as the wrappers below
 * it do. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/clock.h"
#include "guest/transport.h"
#include "virt/domain.h"
#include "virt/hvlog.h"

typedef struct lg_backend lg_backend;
/* A started domain and a session with its guest, as the backend knows them. */
typedef struct lg_vm lg_vm;
typedef struct lg_session lg_session;

/* An upload under way: image (its local path), bytes done of total. */
typedef void (*lg_stage_progress_fn)(void *opaque, const char *image, uint64_t done, uint64_t total);

/* An image a backend put on its host in this run. */
typedef struct lg_staged_image {
    char *source;  /* the local file */
    char *volume;  /* its name on the host (sha256-HEX) */
    char *path;    /* its path on the host */
    bool uploaded; /* false: an earlier run's upload was reused */
    uint64_t size;
    double seconds; /* uploading and verifying it */
} lg_staged_image;
void lg_staged_images_free(lg_staged_image *images, size_t n);

typedef struct lg_backend_ops {
    /* Can QEMU use this image?  -ENOENT missing; -EACCES unreadable, with
     * *blocking the path that stops it (the caller frees). */
    int (*image_check)(lg_backend *be, const char *path, char **blocking);
    /* The local image file put where the host's QEMU reads it (libvirt:
     * the host's labgate storage pool, uploaded once per host and named by
     * its digest) and its path there, *host_path.  progress (may be NULL)
     * hears about an upload; run_id is recorded as its user (for gc). */
    int (*image_stage)(lg_backend *be, const char *local_path, const char *run_id, lg_stage_progress_fn progress,
                       void *opaque, char **host_path);
    /* A copy-on-write overlay called name on base (a local disk image
     * staged before); *path: where the host has it. */
    int (*overlay_create)(lg_backend *be, const char *base, const char *name, char **path);
    /* Removes the overlay at path (as overlay_create gave it). */
    int (*overlay_remove)(lg_backend *be, const char *overlay);
    /* Defines and starts the domain, events and console attached before
     * the guest runs.  -EADDRINUSE: a forwarded port was taken. */
    int (*launch)(lg_backend *be, const char *xml, const lg_domain_handlers *handlers, lg_vm **out);
    const char *(*vm_name)(lg_vm *vm);
    int (*vm_crashed)(lg_vm *vm, bool *crashed);
    /* path_stem + the format's extension; the path, or NULL (lg_error set) */
    char *(*screenshot)(lg_vm *vm, const char *path_stem);
    int (*memory_dump)(lg_vm *vm, const char *path);
    /* Power: a hard reset within timeout_ms; a shutdown that destroys the
     * guest if it has not stopped within graceful_ms (*graceful: it did),
     * the domain kept defined; a start of the stopped domain from its
     * firmware with the console attached again (lg_domain_power_*). */
    int (*reset)(lg_vm *vm, int64_t timeout_ms);
    int (*power_off)(lg_vm *vm, int64_t graceful_ms, bool *graceful);
    int (*power_on)(lg_vm *vm);
    /* Stops the guest's vCPUs within timeout_ms (a paused or crashed
     * guest stays as it is; -ESRCH: it is not running): its state at the
     * decision is the evidence (run/freeze.h). */
    int (*suspend)(lg_vm *vm, int64_t timeout_ms);
    /* Destroys, undefines and frees (NULL is fine). */
    int (*destroy)(lg_vm *vm);
    /* Frees the handle and leaves the domain running for an engineer. */
    void (*release)(lg_vm *vm);
    /* The hypervisor's log of a domain into dest: 1 taken, 0 none. */
    int (*take_log)(lg_backend *be, const char *domain, lg_hvlog_kind kind, const char *dest);
    /* After launch: the port on this machine's 127.0.0.1 that reaches the
     * guest's guest_port (QEMU chose the host's side, read back from its
     * monitor; a remote host's through one SSH connection to that host,
     * guest/hostssh.h).  NULL: the domain XML names a reserved port. */
    int (*guest_port)(lg_backend *be, lg_vm *vm, int guest_port, int64_t timeout_ms, int *local_port);
    void (*guest_port_release)(lg_backend *be, int local_port);
    /* The forward guest_port gave broke for good (the remote host's SSH
     * connection that carried it failed); NULL: never. */
    bool (*guest_port_lost)(lg_backend *be, int local_port);
    /* Where QEMU on the host reaches labgate's listener on this machine's
     * 127.0.0.1:local_port (the guestfwd's target): the same port on a
     * local host, a reverse forward through the host's SSH on a remote
     * one.  NULL: the same port. */
    int (*probe_port)(lg_backend *be, int local_port, int64_t timeout_ms, int *host_port);
    void (*probe_port_release)(lg_backend *be, int host_port);
    /* The hypervisor connection is gone for good (it closed and did not
     * come back within the reconnect deadline). */
    bool (*lost)(lg_backend *be);
    /* Counts the connection's drops and re-attachments: odd while it is
     * down and being opened again (lg_conn_epoch). */
    unsigned (*epoch)(lg_backend *be);
    const char *(*uri)(lg_backend *be);

    /* The guest, over the profile's transport (target->dom is filled in
     * from vm).  Errors as lg_transport_connect's. */
    int (*connect)(lg_backend *be, lg_vm *vm, const lg_transport_target *target, lg_deadline dl,
                   lg_session **out);
    int (*ping)(lg_session *s, lg_deadline dl);
    int (*exec)(lg_session *s, const char *command, const void *input, size_t input_len, lg_deadline dl,
                lg_buf *output, int *exit_status);
    int (*upload_dir)(lg_session *s, const char *local_dir, const char *remote_dir, lg_deadline dl);
    int (*fetch_file)(lg_session *s, const char *remote_path, const char *local_path, uint64_t max_bytes,
                      lg_deadline dl, uint64_t *size);
    void (*session_free)(lg_session *s);

    void (*free)(lg_backend *be);
} lg_backend_ops;

/* Every implementation starts with this. */
struct lg_backend {
    const lg_backend_ops *ops;
};

/* libvirt through conn (borrowed).  QEMU reads the images' copies in the
 * host's storage pool, never the profile's files. */
lg_backend *lg_backend_libvirt_new(lg_conn *conn);
/* Where the host's labgate pool goes if it has none (the matrix's
 * pool-dir; NULL: labgate chooses).  Before the first job. */
void lg_backend_libvirt_set_pool_dir(lg_backend *be, const char *pool_dir);
/* The images the libvirt backend staged so far (handed over; the backend
 * forgets them), and its pool's target directory on the host (or NULL). */
void lg_backend_libvirt_images(lg_backend *be, lg_staged_image **out, size_t *n, char **pool_target);
void lg_backend_free(lg_backend *be);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_backend, lg_backend_free)
