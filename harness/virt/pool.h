/* labgate's storage pool on a libvirt host: job overlays and the guest
 * images they rest on, all through libvirt's storage API, so that any host
 * URI works (qemu:///system, qemu:///session, qemu+ssh://, qemu+tls://) and
 * nothing assumes the pool's files are readable by labgate itself.
 *
 * Images (base disks, kernels, initramfs files) are uploaded once per host,
 * named by their SHA-256 ("sha256-HEX"), and reused by every later run; a
 * job's overlay is a qcow2 volume backed by its image volume
 * ("labgate-RUN-JOB.qcow2", mode 0600), deleted at teardown or by gc. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

#define LG_POOL_NAME "labgate"
/* Under qemu:///system: beside libvirt's own images, where QEMU's user
 * (libvirt-qemu) can reach it. */
#define LG_POOL_SYSTEM_TARGET "/var/lib/libvirt/images/labgate"
#define LG_IMAGE_VOLUME_PREFIX "sha256-"
/* What one virStreamSend carries: well above libvirt's 256 KiB default
 * (virStreamSendAll), well below its 32 MiB message limit. */
#define LG_POOL_CHUNK_BYTES (4u << 20)

typedef struct lg_pool lg_pool;

/* Where a new labgate pool goes on the host at uri: LG_POOL_SYSTEM_TARGET
 * for a .../system URI; otherwise beside the host's "default" pool
 * (default_target: its target path, or NULL when it has none): its parent
 * + "/labgate"; for a local qemu:///session without one, libvirt's own
 * default ($XDG_DATA_HOME/libvirt/images) beside which it would be.  NULL
 * when nothing fits (the caller asks the user to define the pool). */
char *lg_pool_choose_target(const char *uri, const char *default_target);

/* The XML libvirt is handed (new strings). */
char *lg_pool_xml(const char *name, const char *target);
char *lg_volume_image_xml(const char *name);
char *lg_volume_overlay_xml(const char *name, uint64_t capacity, const char *backing_path);

/* "sha256-HEX" for a 64-digit lowercase hex digest; NULL for anything else. */
char *lg_volume_image_name(const char *sha256);
bool lg_volume_is_image(const char *name);
/* "labgate-RUN-JOB.qcow2", and back: RUN of such a name, or NULL. */
char *lg_volume_overlay_name(const char *run_id, const char *job_id);
char *lg_volume_overlay_run_id(const char *name);

/* The virtual size of a local qcow2 image (from its header).  -EINVAL
 * when it is not qcow2. */
int lg_qcow2_virtual_size(const char *path, uint64_t *size);

/* The labgate pool on conn's host, defined (dir type; at pool_dir when
 * given, else where lg_pool_choose_target says), built and started when
 * missing or inactive.  -EACCES/-EIO with a message naming the host,
 * the pool and what libvirt refused; -ENOENT when no target path can be
 * chosen (message says how to define the pool). */
int lg_pool_open(lg_conn *conn, const char *pool_dir, lg_pool **out);
/* The same with a given name and target (tests; NULL target: never define). */
int lg_pool_open_at(lg_conn *conn, const char *name, const char *target, lg_pool **out);
/* The pool if it exists (for gc, which never creates one): -ENOENT if not. */
int lg_pool_lookup(lg_conn *conn, lg_pool **out);
void lg_pool_free(lg_pool *pool);
const char *lg_pool_target(lg_pool *pool);
const char *lg_pool_name(lg_pool *pool);

typedef void (*lg_pool_progress_fn)(void *opaque, uint64_t done, uint64_t total);

/* The image at local_path (whose digest is sha256) as a volume of the pool:
 * reused when it is there whole (its size matches), otherwise uploaded in
 * LG_POOL_CHUNK_BYTES chunks (holes sent as holes where libvirt takes a
 * sparse stream) and verified by downloading it back and hashing it; a
 * mismatch deletes it.  The upload gives up past timeout_ms (checked
 * between chunks; each stream call is bounded by the connection's
 * keepalive).  progress (may be NULL) hears about the upload.  *path:
 * the volume's path on the host. */
int lg_pool_image(lg_pool *pool, const char *local_path, const char *sha256, int64_t timeout_ms,
                  lg_pool_progress_fn progress, void *opaque, char **path, bool *uploaded);
/* A qcow2 overlay volume backed by backing_path (a volume's path, qcow2),
 * of the given virtual size; mode 0600.  *path: its path on the host. */
int lg_pool_overlay_create(lg_pool *pool, const char *name, const char *backing_path, uint64_t capacity,
                           char **path);
/* Downloads the pool's volume NAME (a file written into the pool's
 * directory behind libvirt's back is found by refreshing the pool) to
 * local_path; -EFBIG beyond max_bytes, -ETIMEDOUT past timeout_ms (a
 * partial file is removed); -ENOENT no such volume. */
int lg_pool_volume_fetch(lg_pool *pool, const char *name, const char *local_path, uint64_t max_bytes,
                         int64_t timeout_ms);
/* Deletes the volume; a missing one is fine. */
int lg_pool_volume_delete(lg_pool *pool, const char *name);
/* Deletes the volume at path on conn's host: -ENOENT when no pool holds a
 * volume there (nothing is touched). */
int lg_volume_delete_path(lg_conn *conn, const char *path);
/* What gc may remove for a leftover domain whose metadata names path (which
 * whoever defined the domain wrote): 0 when it is an overlay volume of
 * run_id in this pool; -ENOENT when no volume is at path; -EPERM (message
 * says why) for any other volume. */
int lg_pool_overlay_leftover(lg_pool *pool, const char *path, const char *run_id);
/* Whether a storage volume is at path on conn's host. */
bool lg_volume_at(lg_conn *conn, const char *path);

typedef struct lg_pool_volume {
    char *name;
    char *path;
    int64_t mtime_s; /* last written (libvirt's timestamps), 0 unknown */
} lg_pool_volume;
int lg_pool_volumes(lg_pool *pool, lg_pool_volume **out, size_t *n);
void lg_pool_volumes_free(lg_pool_volume *vols, size_t n);

#include "base/cleanup.h"
LG_DEFINE_AUTOPTR(lg_pool, lg_pool_free)
