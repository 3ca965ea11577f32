#include "backend.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/digestcache.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/sha256.h"
#include "base/util.h"
#include "guest/hostssh.h"
#include "imageuse.h"
#include "virt/pool.h"
#include "virt/remote.h"
#include "virt/usernet.h"

LG_LOG_INIT("backend");

typedef struct libvirt_backend {
    lg_backend base;
    lg_conn *conn;
    /* the images staged on this host, each once per run; held while one
     * is staged, so workers wanting the same image wait for its upload */
    pthread_mutex_t stage_lock;
    lg_pool *pool;
    char *pool_dir;       /* the matrix's pool-dir for the host, or NULL */
    lg_staged_image *images;
    size_t n_images;
    /* a host on another machine (virt/remote.h: not ours, and not behind a
     * unix socket here): its SSH, opened at the first need and kept for the
     * backend's life, reaches the guests' ports and its logs */
    bool remote;
    pthread_mutex_t ssh_lock;
    lg_hostssh *ssh;
} libvirt_backend;

/* how long the host's SSH may take to answer and let us in */
#define HOST_SSH_OPEN_MS 30000
/* a hypervisor log fetched through the host's SSH, at most */
#define HVLOG_REMOTE_MAX (8u << 20)
#define HVLOG_REMOTE_MS 30000

/* The host's SSH connection (opened now if need be), or NULL (lg_error
 * set).  A broken one is opened again. */
static lg_hostssh *host_ssh(libvirt_backend *b)
{
    pthread_mutex_lock(&b->ssh_lock);
    if (b->ssh && lg_hostssh_broken(b->ssh)) {
        lg_hostssh_free(b->ssh);
        b->ssh = NULL;
    }
    if (!b->ssh) {
        lg_host_ssh params;
        if (lg_uri_host_ssh(lg_conn_uri(b->conn), &params) == 0) {
            if (lg_hostssh_open(&params, HOST_SSH_OPEN_MS, &b->ssh) < 0)
                b->ssh = NULL;
            lg_host_ssh_clear(&params);
        }
    }
    lg_hostssh *ssh = b->ssh;
    pthread_mutex_unlock(&b->ssh_lock);
    return ssh;
}

static libvirt_backend *self(lg_backend *be)
{
    return (libvirt_backend *)be;
}

/* lg_vm is an lg_domain, lg_session an lg_transport, in this backend */
static lg_domain *dom_of(lg_vm *vm)
{
    return (lg_domain *)(void *)vm;
}

static lg_transport *transport_of(lg_session *s)
{
    return (lg_transport *)(void *)s;
}

/* The local files are labgate's to read: QEMU reads the copies staged in
 * the host's pool. */
static int image_check(lg_backend *be, const char *path, char **blocking)
{
    (void)be;
    if (!lg_is_file(path))
        return -ENOENT;
    if (access(path, R_OK) < 0) {
        if (blocking)
            *blocking = lg_strdup(path);
        return -EACCES;
    }
    return 0;
}

static lg_staged_image *staged(libvirt_backend *b, const char *local_path)
{
    for (size_t i = 0; i < b->n_images; i++)
        if (strcmp(b->images[i].source, local_path) == 0)
            return &b->images[i];
    return NULL;
}

typedef struct stage_progress {
    lg_stage_progress_fn fn;
    void *opaque;
    const char *image;
} stage_progress;

static void on_transfer(void *opaque, uint64_t done, uint64_t total)
{
    stage_progress *sp = opaque;
    if (sp->fn)
        sp->fn(sp->opaque, sp->image, done, total);
}

/* Time for an upload and its verification: a minute or two of set-up,
 * then at least 1 MiB/s each way. */
static int64_t transfer_timeout_ms(uint64_t size)
{
    return 120000 + (int64_t)(2 * size / 1024);
}

/* Digest, pool, upload (or reuse), usage noted; stage_lock held. */
static int stage_locked(libvirt_backend *b, const char *local_path, const char *run_id, stage_progress *sp,
                        lg_staged_image *out)
{
    const char *uri = lg_conn_uri(b->conn);
    int rc = 0;
    if (!b->pool && (rc = lg_pool_open(b->conn, b->pool_dir, &b->pool)) < 0)
        return rc;
    char hex[LG_SHA256_HEX_LEN + 1];
    uint64_t size = 0;
    if ((rc = lg_sha256_file_cached(local_path, NULL, hex, &size)) < 0)
        return rc;
    int64_t start = lg_now_ms();
    /* another run from this state directory uploading the same image must
     * not see it half-written and start over */
    int lock = lg_image_upload_lock(uri, transfer_timeout_ms(size));
    if (lock < 0)
        return lock;
    char *path = NULL;
    bool uploaded = false;
    rc = lg_pool_image(b->pool, local_path, hex, transfer_timeout_ms(size), on_transfer, sp, &path, &uploaded);
    lg_image_upload_unlock(lock);
    if (rc < 0)
        return rc;
    *out = (lg_staged_image){ .source = lg_strdup(local_path), .volume = lg_volume_image_name(hex), .path = path,
                              .uploaded = uploaded, .size = size,
                              .seconds = (double)(lg_now_ms() - start) / 1000.0 };
    if (lg_image_index_touch(uri, out->volume, run_id, (int64_t)time(NULL)) < 0)
        LG_DEBUG("%s: usage not recorded: %s", out->volume, lg_error_msg()); /* gc then goes by its age */
    return 0;
}

static int image_stage(lg_backend *be, const char *local_path, const char *run_id, lg_stage_progress_fn progress,
                       void *opaque, char **host_path)
{
    libvirt_backend *b = self(be);
    stage_progress sp = { .fn = progress, .opaque = opaque, .image = local_path };
    pthread_mutex_lock(&b->stage_lock);
    lg_staged_image *have = staged(b, local_path);
    int rc = 0;
    if (!have) {
        lg_staged_image img;
        rc = stage_locked(b, local_path, run_id, &sp, &img);
        if (rc == 0) {
            b->images = lg_realloc_n(b->images, b->n_images + 1, sizeof(*b->images));
            b->images[b->n_images] = img;
            have = &b->images[b->n_images++];
        }
    }
    if (rc == 0)
        *host_path = lg_strdup(have->path);
    pthread_mutex_unlock(&b->stage_lock);
    return rc;
}

static int overlay_create(lg_backend *be, const char *base, const char *name, char **path)
{
    libvirt_backend *b = self(be);
    pthread_mutex_lock(&b->stage_lock);
    lg_staged_image *img = staged(b, base);
    LG_AUTOFREE char *backing = img ? lg_strdup(img->path) : NULL;
    pthread_mutex_unlock(&b->stage_lock);
    if (!backing || !b->pool) {
        lg_error_set("overlay %s: its base %s was never staged on %s", name, base, lg_conn_uri(b->conn));
        return -EINVAL;
    }
    uint64_t capacity = 0;
    int rc = lg_qcow2_virtual_size(base, &capacity);
    if (rc < 0)
        return rc;
    return lg_pool_overlay_create(b->pool, name, backing, capacity, path);
}

static int overlay_remove(lg_backend *be, const char *overlay)
{
    int rc = lg_volume_delete_path(self(be)->conn, overlay);
    return rc == -ENOENT ? 0 : rc;
}

static int launch(lg_backend *be, const char *xml, const lg_domain_handlers *handlers, lg_vm **out)
{
    lg_domain *dom = NULL;
    int rc = lg_domain_launch(self(be)->conn, xml, handlers, &dom);
    if (rc == 0)
        *out = (lg_vm *)(void *)dom;
    return rc;
}

static const char *vm_name(lg_vm *vm)
{
    return lg_domain_name(dom_of(vm));
}

static int vm_crashed(lg_vm *vm, bool *crashed)
{
    return lg_domain_crashed(dom_of(vm), crashed);
}

static char *screenshot(lg_vm *vm, const char *path_stem)
{
    return lg_domain_screenshot(dom_of(vm), path_stem);
}

static int memory_dump(lg_vm *vm, const char *path)
{
    lg_conn *conn = lg_domain_conn(dom_of(vm));
    if (!lg_uri_is_remote(lg_conn_uri(conn)))
        return lg_domain_memory_dump(dom_of(vm), path);
    /* the host's pool is this backend's; the vm knows only its conn */
    lg_pool *pool = NULL;
    int rc = lg_pool_lookup(conn, &pool);
    if (rc < 0)
        return rc;
    rc = lg_domain_memory_dump_pooled(dom_of(vm), pool, path);
    lg_pool_free(pool);
    return rc;
}

static int guest_port(lg_backend *be, lg_vm *vm, int guest, int64_t timeout_ms, int *local_port)
{
    libvirt_backend *b = self(be);
    int host_port = 0;
    int rc = lg_domain_hostfwd_port(dom_of(vm), guest, timeout_ms, &host_port);
    if (rc < 0 || !b->remote) {
        if (rc == 0)
            *local_port = host_port;
        return rc;
    }
    lg_hostssh *ssh = host_ssh(b);
    if (!ssh)
        return -ECONNREFUSED;
    return lg_hostssh_forward(ssh, host_port, local_port);
}

static void guest_port_release(lg_backend *be, int local_port)
{
    libvirt_backend *b = self(be);
    pthread_mutex_lock(&b->ssh_lock);
    if (b->remote && b->ssh)
        lg_hostssh_forward_close(b->ssh, local_port);
    pthread_mutex_unlock(&b->ssh_lock);
}

static bool guest_port_lost(lg_backend *be, int local_port)
{
    libvirt_backend *b = self(be);
    if (!b->remote)
        return false;
    pthread_mutex_lock(&b->ssh_lock);
    bool lost = !b->ssh || !lg_hostssh_forward_alive(b->ssh, local_port);
    pthread_mutex_unlock(&b->ssh_lock);
    return lost;
}

static int probe_port(lg_backend *be, int local_port, int64_t timeout_ms, int *host_port)
{
    libvirt_backend *b = self(be);
    if (!b->remote) {
        *host_port = local_port;
        return 0;
    }
    lg_hostssh *ssh = host_ssh(b);
    if (!ssh)
        return -ECONNREFUSED;
    return lg_hostssh_reverse(ssh, local_port, timeout_ms, host_port);
}

static void probe_port_release(lg_backend *be, int host_port)
{
    libvirt_backend *b = self(be);
    pthread_mutex_lock(&b->ssh_lock);
    if (b->remote && b->ssh)
        lg_hostssh_reverse_close(b->ssh, host_port);
    pthread_mutex_unlock(&b->ssh_lock);
}

/* A remote host's log of the domain, through its SSH: `cat`, then removed
 * there (libvirt never removes them).  1 taken, 0 none. */
static int take_remote_log(libvirt_backend *b, const char *domain, lg_hvlog_kind kind, const char *dest)
{
    LG_AUTOFREE char *path = lg_uri_remote_log_path(lg_conn_uri(b->conn), domain, kind == LG_HVLOG_SWTPM);
    if (!path)
        return 0;
    lg_hostssh *ssh = host_ssh(b);
    if (!ssh)
        return -ECONNREFUSED;
    LG_AUTOFREE char *quoted = lg_shell_quote(path);
    /* exit 3: no such log (no swtpm, or the domain never started) */
    LG_AUTOFREE char *cmd = lg_strdup_printf("test -f %s || exit 3; cat -- %s && rm -f -- %s", quoted, quoted, quoted);
    LG_AUTOBUF out = LG_BUF_INIT;
    int status = -1;
    int rc = lg_hostssh_exec(ssh, cmd, HVLOG_REMOTE_MAX, HVLOG_REMOTE_MS, &out, &status);
    if (rc < 0)
        return rc;
    if (status == 3)
        return 0;
    if (status != 0) {
        lg_error_set("cannot fetch %s from %s (exit status %d)", path, lg_conn_uri(b->conn), status);
        return -EIO;
    }
    rc = lg_write_file(dest, out.data ? out.data : "", out.len);
    return rc < 0 ? rc : 1;
}

static int reset(lg_vm *vm, int64_t timeout_ms)
{
    return lg_domain_reset(dom_of(vm), timeout_ms);
}

static int power_off(lg_vm *vm, int64_t graceful_ms, bool *graceful)
{
    return lg_domain_power_off(dom_of(vm), graceful_ms, graceful);
}

static int power_on(lg_vm *vm)
{
    return lg_domain_power_on(dom_of(vm));
}

static int suspend(lg_vm *vm, int64_t timeout_ms)
{
    return lg_domain_suspend(dom_of(vm), timeout_ms);
}

static int destroy(lg_vm *vm)
{
    return lg_domain_destroy(dom_of(vm));
}

static void release(lg_vm *vm)
{
    lg_domain_release(dom_of(vm));
}

static int take_log(lg_backend *be, const char *domain, lg_hvlog_kind kind, const char *dest)
{
    libvirt_backend *b = self(be);
    if (b->remote)
        return take_remote_log(b, domain, kind, dest);
    return lg_hvlog_move(lg_conn_uri(b->conn), domain, kind, dest);
}

static bool lost(lg_backend *be)
{
    return lg_conn_lost(self(be)->conn);
}

static unsigned epoch(lg_backend *be)
{
    return lg_conn_epoch(self(be)->conn);
}

static const char *uri(lg_backend *be)
{
    return lg_conn_uri(self(be)->conn);
}

static int connect_guest(lg_backend *be, lg_vm *vm, const lg_transport_target *target, lg_deadline dl,
                         lg_session **out)
{
    (void)be;
    lg_transport_target t = *target;
    t.dom = dom_of(vm);
    lg_transport *transport = NULL;
    int rc = lg_transport_connect(&t, dl, &transport);
    if (rc == 0)
        *out = (lg_session *)(void *)transport;
    return rc;
}

static int ping(lg_session *s, lg_deadline dl)
{
    return lg_transport_ping(transport_of(s), dl);
}

static int exec_command(lg_session *s, const char *command, const void *input, size_t input_len, lg_deadline dl,
                        lg_buf *output, int *exit_status)
{
    return lg_transport_exec(transport_of(s), command, input, input_len, dl, output, exit_status);
}

static int upload_dir(lg_session *s, const char *local_dir, const char *remote_dir, lg_deadline dl)
{
    return lg_transport_upload_dir(transport_of(s), local_dir, remote_dir, dl);
}

static int fetch_file(lg_session *s, const char *remote_path, const char *local_path, uint64_t max_bytes,
                      lg_deadline dl, uint64_t *size)
{
    return lg_transport_fetch_file(transport_of(s), remote_path, local_path, max_bytes, dl, size);
}

static void session_free(lg_session *s)
{
    lg_transport_free(transport_of(s));
}

void lg_staged_images_free(lg_staged_image *images, size_t n)
{
    for (size_t i = 0; images && i < n; i++) {
        free(images[i].source);
        free(images[i].volume);
        free(images[i].path);
    }
    free(images);
}

static void backend_free(lg_backend *be)
{
    libvirt_backend *b = self(be);
    lg_staged_images_free(b->images, b->n_images);
    lg_pool_free(b->pool);
    lg_hostssh_free(b->ssh);
    pthread_mutex_destroy(&b->ssh_lock);
    free(b->pool_dir);
    pthread_mutex_destroy(&b->stage_lock);
    free(b);
}

static const lg_backend_ops libvirt_ops = {
    .image_check = image_check, .image_stage = image_stage, .overlay_create = overlay_create, .overlay_remove = overlay_remove,
    .launch = launch, .vm_name = vm_name, .vm_crashed = vm_crashed, .screenshot = screenshot,
    .memory_dump = memory_dump, .reset = reset, .power_off = power_off, .power_on = power_on, .suspend = suspend, .destroy = destroy, .release = release, .take_log = take_log, .lost = lost,
    .epoch = epoch, .uri = uri, .connect = connect_guest, .ping = ping, .exec = exec_command, .upload_dir = upload_dir,
    .fetch_file = fetch_file, .session_free = session_free, .free = backend_free,
    .guest_port = guest_port, .guest_port_release = guest_port_release, .guest_port_lost = guest_port_lost,
    .probe_port = probe_port,
    .probe_port_release = probe_port_release,
};

lg_backend *lg_backend_libvirt_new(lg_conn *conn)
{
    libvirt_backend *be = LG_NEW0(libvirt_backend);
    *be = (libvirt_backend){ .base = { &libvirt_ops }, .conn = conn, .remote = lg_uri_is_remote(lg_conn_uri(conn)) && !lg_uri_on_this_machine(lg_conn_uri(conn)) };
    pthread_mutex_init(&be->stage_lock, NULL);
    pthread_mutex_init(&be->ssh_lock, NULL);
    return &be->base;
}

void lg_backend_libvirt_set_pool_dir(lg_backend *be, const char *pool_dir)
{
    libvirt_backend *b = self(be);
    free(b->pool_dir);
    b->pool_dir = pool_dir ? lg_strdup(pool_dir) : NULL;
}

void lg_backend_libvirt_images(lg_backend *be, lg_staged_image **out, size_t *n, char **pool_target)
{
    libvirt_backend *b = self(be);
    pthread_mutex_lock(&b->stage_lock);
    *out = LG_STEAL(b->images);
    *n = b->n_images;
    b->n_images = 0;
    *pool_target = b->pool ? lg_strdup(lg_pool_target(b->pool)) : NULL;
    pthread_mutex_unlock(&b->stage_lock);
}

void lg_backend_free(lg_backend *be)
{
    if (be)
        be->ops->free(be);
}
