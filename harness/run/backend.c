#include "backend.h"

#include <errno.h>
#include <stdlib.h>

#include "base/mem.h"
#include "base/util.h"
#include "virt/overlay.h"

typedef struct libvirt_backend {
    lg_backend base;
    lg_conn *conn;
    bool system_uri;
} libvirt_backend;

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

static int image_check(lg_backend *be, const char *path, char **blocking)
{
    if (!lg_is_file(path))
        return -ENOENT;
    if (self(be)->system_uri && !lg_path_world_readable(path, blocking))
        return -EACCES;
    return 0;
}

static int overlay_create(lg_backend *be, const char *base, const char *overlay)
{
    (void)be;
    return lg_overlay_create(base, overlay);
}

static int overlay_remove(lg_backend *be, const char *overlay)
{
    (void)be;
    return lg_overlay_remove(overlay);
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
    return lg_domain_memory_dump(dom_of(vm), path);
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
    return lg_hvlog_move(lg_conn_uri(self(be)->conn), domain, kind, dest);
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

static void backend_free(lg_backend *be)
{
    free(be);
}

static const lg_backend_ops libvirt_ops = {
    .image_check = image_check, .overlay_create = overlay_create, .overlay_remove = overlay_remove,
    .launch = launch, .vm_name = vm_name, .vm_crashed = vm_crashed, .screenshot = screenshot,
    .memory_dump = memory_dump, .reset = reset, .power_off = power_off, .power_on = power_on, .suspend = suspend, .destroy = destroy, .release = release, .take_log = take_log, .lost = lost,
    .epoch = epoch, .uri = uri, .connect = connect_guest, .ping = ping, .exec = exec_command, .upload_dir = upload_dir,
    .fetch_file = fetch_file, .session_free = session_free, .free = backend_free,
};

lg_backend *lg_backend_libvirt_new(lg_conn *conn, bool system_uri)
{
    libvirt_backend *be = LG_NEW0(libvirt_backend);
    *be = (libvirt_backend){ .base = { &libvirt_ops }, .conn = conn, .system_uri = system_uri };
    return &be->base;
}

void lg_backend_free(lg_backend *be)
{
    if (be)
        be->ops->free(be);
}
