#include "accel.h"
#include "remote.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/ports.h"
#include "base/statedir.h"
#include "base/util.h"
#include "domain.h"
#include "domxml.h"
#include "hvlog.h"
#include "overlay.h"

LG_LOG_INIT("virt");

#define PROBE_MS 20000

typedef struct probe {
    pthread_mutex_t lock;
    lg_buf console;
} probe;

static void probe_console(void *opaque, const char *data, size_t len)
{
    probe *p = opaque;
    pthread_mutex_lock(&p->lock);
    lg_buf_append(&p->console, data, len);
    lg_buf_keep_tail(&p->console, 64 * 1024);
    pthread_mutex_unlock(&p->lock);
}

/* Boots the profile's kernel under KVM; true if the kernel got as far as
 * printing on the serial console. */
static bool kvm_boots(lg_conn *conn, const lg_profile *profile)
{
    char name[64];
    snprintf(name, sizeof(name), "labgate-kvmprobe-%d", (int)getpid());
    LG_AUTOFREE char *dir = lg_state_dir();
    LG_AUTOFREE char *overlay = lg_strdup_printf("%s/%s.qcow2", dir, name);
    lg_overlay_remove(overlay); /* a killed probe's, whose pid we now have */
    if (lg_overlay_create(profile->disk, overlay) < 0)
        return false;
    int port = lg_port_reserve();
    probe p = { .console = LG_BUF_INIT };
    pthread_mutex_init(&p.lock, NULL);
    lg_domxml_params params = {
        .profile = profile, .name = name, .overlay_path = overlay, .ssh_host_port = port > 0 ? port : 1,
        .kvm = true, .run_id = "kvmprobe", .job_id = "kvmprobe",
    };
    LG_AUTOFREE char *xml = lg_domxml_build(&params);
    lg_domain_handlers handlers = { .console = probe_console, .opaque = &p };
    lg_domain *dom = NULL;
    bool ok = false;
    if (xml && lg_domain_launch(conn, xml, &handlers, &dom) == 0) {
        lg_deadline dl = lg_deadline_in_ms(PROBE_MS);
        while (!ok && !lg_deadline_passed(dl)) {
            lg_sleep_ms(250);
            pthread_mutex_lock(&p.lock);
            ok = p.console.data && strstr(p.console.data, "Linux version");
            pthread_mutex_unlock(&p.lock);
        }
    } else {
        LG_DEBUG("kvm probe could not start: %s", lg_error_msg());
    }
    lg_domain_free(dom);
    /* no job keeps the probe's logs: remove them with its domain */
    for (lg_hvlog_kind kind = 0; kind < LG_HVLOG_KINDS; kind++)
        lg_hvlog_remove(lg_conn_uri(conn), name, kind);
    lg_overlay_remove(overlay);
    if (port > 0)
        lg_port_release(port);
    lg_buf_free(&p.console);
    pthread_mutex_destroy(&p.lock);
    return ok;
}

int lg_accel_resolve(lg_conn *conn, lg_accel wanted, const lg_matrix *m, bool *kvm)
{
    lg_error_clear(); /* a stale message never names a later failure */
    if (wanted != LG_ACCEL_AUTO) {
        *kvm = wanted == LG_ACCEL_KVM;
        return 0;
    }
    *kvm = false;
    /* this machine's /dev/kvm says nothing of another's, and the probe
     * boots from local files: a remote host runs TCG unless the policy
     * (or LABGATE_ACCEL) says kvm */
    if (lg_uri_is_remote(lg_conn_uri(conn))) {
        LG_DEBUG("%s: remote host, accel=auto: TCG (not probed)", lg_conn_uri(conn));
        return 0;
    }
    if (access("/dev/kvm", R_OK | W_OK) != 0)
        return 0;
    const lg_profile *profile = NULL;
    for (size_t i = 0; i < m->n_guests && !profile; i++)
        if (m->guests[i].profile && m->guests[i].profile->kernel && lg_is_file(m->guests[i].profile->disk))
            profile = m->guests[i].profile;
    if (!profile)
        return 0; /* nothing to prove it with: TCG is slow but never wrong */

    char boot_id[64] = "unknown";
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f) {
        if (!fgets(boot_id, sizeof(boot_id), f))
            strcpy(boot_id, "unknown");
        boot_id[strcspn(boot_id, "\n")] = '\0';
        fclose(f);
    }
    const char *uri = lg_conn_uri(conn);
    /* the cache decides how every job boots: read it only from a checked
     * directory (and the probe's overlay goes there too) */
    LG_AUTOFREE char *state = lg_state_dir();
    int rc = lg_state_dir_check(state);
    if (rc < 0)
        return rc;
    LG_AUTOFREE char *cache = lg_strdup_printf("%s/kvm-probe-%016llx", state,
                                               (unsigned long long)lg_hash64_str(uri, lg_hash64_str(boot_id, 0)));
    LG_AUTOFREE char *cached = NULL;
    if (lg_read_file(cache, 16, &cached, NULL) == 0) {
        *kvm = strncmp(cached, "kvm", 3) == 0;
        LG_DEBUG("accelerator from this boot's probe: %s", *kvm ? "kvm" : "tcg");
        return 0;
    }
    lg_virt_notify(LG_VIRT_NOTICE_KVM_PROBE, "probing whether KVM really boots guests on %s (up to %d s)", uri,
                   PROBE_MS / 1000);
    *kvm = kvm_boots(conn, profile);
    if (!*kvm)
        lg_virt_notify(LG_VIRT_NOTICE_KVM_BROKEN, "/dev/kvm is present but a guest kernel did not boot under it; "
                       "using TCG (set LABGATE_ACCEL=kvm to force it)");
    lg_write_file(cache, *kvm ? "kvm\n" : "tcg\n", 4);
    return 0;
}
