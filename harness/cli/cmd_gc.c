#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clean.h"
#include "base/error.h"
#include "base/mem.h"
#include "base/statedir.h"
#include "base/util.h"
#include "cli.h"
#include "model/plan.h"
#include "model/verdict.h"
#include "run/runlock.h"
#include "virt/conn.h"
#include "virt/hvlog.h"
#include "virt/leftovers.h"
#include "virt/overlay.h"
#include "virt/pool.h"
#include "run/imageuse.h"

/* image volumes no run used for this long go */
#define LG_GC_IMAGE_DAYS 14

static const char help[] =
    "usage: labgate gc [--dry-run] [--uri URI] [--images-older-than DAYS]\n"
    "Removes what a killed labgate left behind: its domains (destroyed and undefined,\n"
    "with their UEFI varstore, TPM state, and libvirt's QEMU and swtpm logs), their\n"
    "overlay volumes in the host's labgate storage pool, the console logs of a run\n"
    "killed before it wrote run.xml, and stale run locks.  It also removes the guest\n"
    "image volumes of that pool that no run used for DAYS days.\n"
    "A domain is labgate's only if it carries labgate's <metadata> element (never by\n"
    "name alone), and a leftover only if the run that made it no longer holds its run\n"
    "lock in the state directory; a live run's domains and overlays are never touched,\n"
    "nor any image while a live run has an overlay in the pool.\n"
    "\n"
    "  --dry-run                    list what would be removed, remove nothing\n"
    "  --uri URI                    the libvirt host (default qemu:///system)\n"
    "  --images-older-than DAYS     image volumes no run used for DAYS days\n"
    "                               (default 14; 0: every image no live run uses)\n"
    "\n"
    "When an image was last used comes from the state directory's index of that\n"
    "host (images-*.index, written by every run), else from the volume's upload time.\n"
    "\n"
    "Exits 0 when everything found was removed (or listed), 3 when something could\n"
    "not be, 2 on bad arguments.\n";

/* libvirt's QEMU and swtpm logs of a removed domain (a finished job moves
 * them into its results; a killed one leaves them) */
static int remove_hypervisor_logs(const char *uri, const char *name, bool dry_run, const char *verb)
{
    int failures = 0;
    for (lg_hvlog_kind kind = 0; kind < LG_HVLOG_KINDS; kind++) {
        LG_AUTOFREE char *path = lg_hvlog_path(uri, name, kind);
        if (!path || access(path, F_OK) < 0)
            continue;
        LG_AUTOFREE char *shown = lg_clean_term(path);
        if (!dry_run && lg_hvlog_remove(uri, name, kind) < 0) {
            LG_AUTOFREE char *why = lg_clean_term(lg_error_msg());
            fprintf(stderr, "labgate gc: %s\n", why);
            failures++;
            continue;
        }
        printf("%s libvirt log %s\n", verb, shown);
    }
    return failures;
}

typedef struct log_report {
    const char *verb;
    int failures;
} log_report;

static void report_console_log(const char *log, int rc, void *opaque)
{
    log_report *r = opaque;
    LG_AUTOFREE char *shown = lg_clean_term(log);
    if (rc < 0)
        fprintf(stderr, "labgate gc: cannot remove %s: %s\n", shown, strerror(-rc));
    else
        printf("%s console log %s (of a run killed before it wrote run.xml)\n", r->verb, shown);
}

/* A killed run wrote console logs but never its run.xml: they are partial
 * and nobody's.  Only a lock this user created is believed, and only a
 * results directory this user owns is touched.  Returns the number of
 * failures. */
static int clear_console_logs(const char *lock_path, bool dry_run, const char *verb)
{
    log_report r = { .verb = verb };
    int rc = lg_run_lock_clear_partial_logs(lock_path, dry_run, report_console_log, &r);
    if (rc < 0) {
        fprintf(stderr, "labgate gc: %s\n", lg_error_msg());
        return 1;
    }
    return rc;
}

/* The overlays of dead runs, and the images nobody used for images_days,
 * in the host's labgate pool (none there: nothing to do).  Returns the
 * number of failures. */
static int clean_pool(lg_conn *conn, const char *uri, bool dry_run, const char *verb, int images_days,
                      const lg_buf *reported, const lg_buf *live_overlays, const char *live_domain_run, size_t *found)
{
    LG_AUTO(lg_pool) pool = NULL;
    int rc = lg_pool_lookup(conn, &pool);
    if (rc == -ENOENT)
        return 0;
    lg_pool_volume *vols = NULL;
    size_t n = 0;
    if (rc < 0 || lg_pool_volumes(pool, &vols, &n) < 0) {
        fprintf(stderr, "labgate gc: %s\n", lg_error_msg());
        return 1;
    }
    int failures = 0;
    /* a live run with an overlay here (by its domain, or by its lock in
     * this state directory) */
    LG_AUTOFREE char *live_run = lg_strdup(live_domain_run);
    for (size_t i = 0; i < n; i++) {
        LG_AUTOFREE char *run_id = lg_volume_overlay_run_id(vols[i].name);
        LG_AUTOFREE char *lock_path = run_id ? lg_run_lock_path(run_id) : NULL;
        if (!run_id)
            continue;
        LG_AUTOFREE char *line = lg_strdup_printf("\n%s\n", vols[i].path);
        if (lg_run_lock_held(lock_path) || strstr(live_overlays->data, line)) {
            if (!live_run)
                live_run = lg_strdup(run_id);
            continue;
        }
        if (strstr(reported->data, line))
            continue;
        (*found)++;
        if (!dry_run && lg_pool_volume_delete(pool, vols[i].name) < 0) {
            fprintf(stderr, "labgate gc: %s\n", lg_error_msg());
            failures++;
            continue;
        }
        printf("%s overlay volume %s (run %s)\n", verb, vols[i].path, run_id);
    }
    lg_image_use *uses = NULL;
    size_t n_uses = 0;
    if (lg_image_index_read(uri, &uses, &n_uses) < 0) {
        fprintf(stderr, "labgate gc: image volumes kept: %s\n", lg_error_msg());
        failures++;
        images_days = -1;
    }
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; images_days >= 0 && i < n; i++) {
        if (!lg_volume_is_image(vols[i].name))
            continue;
        const lg_image_use *use = lg_image_use_find(uses, n_uses, vols[i].name);
        LG_AUTOFREE char *lock_path = use ? lg_run_lock_path(use->run_id) : NULL;
        bool live = (lock_path && lg_run_lock_held(lock_path)) || live_run;
        if (!lg_image_gc_due(use, vols[i].mtime_s, now, images_days, live)) {
            if (live && lg_image_gc_due(use, vols[i].mtime_s, now, images_days, false))
                printf("kept image volume %s: run %s is live\n", vols[i].name,
                       live_run ? live_run : use->run_id);
            continue;
        }
        (*found)++;
        if (!dry_run && lg_pool_volume_delete(pool, vols[i].name) < 0) {
            fprintf(stderr, "labgate gc: %s\n", lg_error_msg());
            failures++;
            continue;
        }
        if (!dry_run && lg_image_index_forget(uri, vols[i].name) < 0)
            fprintf(stderr, "labgate gc: %s\n", lg_error_msg()); /* a stale line: harmless */
        int64_t last = use && use->last_used_s > vols[i].mtime_s ? use->last_used_s : vols[i].mtime_s;
        printf("%s image volume %s (%s %.1f days ago)\n", verb, vols[i].path, use ? "last used" : "uploaded",
               (double)(now - last) / 86400.0);
    }
    lg_image_uses_free(uses, n_uses);
    lg_pool_volumes_free(vols, n);
    return failures;
}

static int gc_host(const char *uri, bool dry_run, int images_days);

int lg_cmd_gc(int argc, char **argv)
{
    static const struct option options[] = {
        { "dry-run", no_argument, NULL, 'n' },
        { "uri", required_argument, NULL, 'u' },
        { "images-older-than", required_argument, NULL, 'i' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool dry_run = false;
    const char *uri = "qemu:///system";
    int images_days = LG_GC_IMAGE_DAYS;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'n': dry_run = true; break;
        case 'u': uri = optarg; break;
        case 'i':
            if (lg_parse_int(optarg, &images_days) < 0 || images_days < 0) {
                fprintf(stderr, "labgate gc: --images-older-than wants a number of days (0 or more), not '%s'\n",
                        optarg);
                return LG_EXIT_BAD_INPUT;
            }
            break;
        case 'h': fputs(help, stdout); return 0;
        default: fputs(help, stderr); return LG_EXIT_BAD_INPUT;
        }
    }
    if (optind != argc) {
        fputs(help, stderr);
        return LG_EXIT_BAD_INPUT;
    }
    lg_virt_set_notice_fn(lg_cli_virt_notice);
    if (lg_virt_init() < 0) {
        fprintf(stderr, "labgate gc: %s\n", lg_error_msg());
        return LG_EXIT_INCOMPLETE;
    }
    int rc = gc_host(uri, dry_run, images_days);
    /* the connection is closed (gc_host's cleanups): its last teardown may
     * still run on libvirt's event thread, a remote transport's SSH channel
     * among it; stop that thread before exit() tears OpenSSL down under it */
    lg_virt_shutdown();
    return rc;
}

/* Everything gc does on one host, its connection closed on return. */
static int gc_host(const char *uri, bool dry_run, int images_days)
{    const char *verb = dry_run ? "would remove" : "removed";
    LG_AUTOBUF reported = LG_BUF_INIT; /* overlays listed with their domain */
    lg_buf_puts(&reported, "\n");
    LG_AUTOBUF live_overlays = LG_BUF_INIT; /* of live runs' domains */
    lg_buf_puts(&live_overlays, "\n");
    LG_AUTOFREE char *live_run = NULL;
    int failures = 0;
    size_t found = 0;

    LG_AUTO(lg_conn) conn = NULL;
    if (lg_conn_open(uri, &conn) < 0) {
        fprintf(stderr, "labgate gc: %s\n", lg_error_msg());
        return LG_EXIT_INCOMPLETE;
    }
    /* the host's labgate pool, if it has one (gc never makes one) */
    LG_AUTO(lg_pool) pool = NULL;
    if (lg_pool_lookup(conn, &pool) < 0 && pool == NULL)
        lg_error_clear();
    lg_labgate_domain *doms = NULL;
    size_t n = 0;
    if (lg_labgate_domains(conn, &doms, &n) < 0) {
        fprintf(stderr, "labgate gc: %s\n", lg_error_msg());
        return LG_EXIT_INCOMPLETE;
    }
    for (size_t i = 0; i < n; i++) {
        const lg_labgate_domain *d = &doms[i];
        /* a live run's, by the lock its metadata names (a domain without one
         * comes from a labgate that predates it: its run is long gone) */
        if (!d->run_id)
            continue;
        /* the lock is in a state directory, not wherever the metadata says
         * (whoever can define a domain writes that); an id that could name
         * another directory is not one of ours */
        if (!lg_run_id_ok(d->run_id)) {
            LG_AUTOFREE char *shown = lg_clean_term(d->name);
            fprintf(stderr, "labgate gc: domain %s: its run id is not one labgate makes: left alone\n", shown);
            continue;
        }
        LG_AUTOFREE char *lock_path = lg_run_lock_path_claimed(d->run_id, d->lock);
        if (lg_run_lock_held(lock_path)) {
            /* its overlay (and the image under it) belong to a live run,
             * whatever state directory that run uses */
            if (d->overlay)
                lg_buf_printf(&live_overlays, "%s\n", d->overlay);
            if (!live_run)
                live_run = lg_strdup(d->run_id);
            continue;
        }
        found++;
        /* names and metadata are whoever defined the domain's: for the terminal */
        LG_AUTOFREE char *name = lg_clean_term(d->name);
        LG_AUTOFREE char *run_id = lg_clean_term(d->run_id);
        LG_AUTOFREE char *job_id = lg_clean_term(d->job_id ? d->job_id : "?");
        if (!dry_run && lg_labgate_domain_remove(conn, d->name) < 0) {
            fprintf(stderr, "labgate gc: domain %s: %s\n", name, lg_error_msg());
            failures++;
            continue;
        }
        printf("%s domain %s (run %s, job %s, %s)\n", verb, name, run_id, job_id,
               d->active ? "was running" : "defined");
        failures += remove_hypervisor_logs(uri, d->name, dry_run, verb);
        /* only an overlay volume of that run in the labgate pool (whoever
         * can define a domain writes its metadata: never any volume it
         * names), else an overlay of that run in a state directory, ours */
        int volume_rc = d->overlay && pool ? lg_pool_overlay_leftover(pool, d->overlay, d->run_id) : -ENOENT;
        int overlay_rc = d->overlay && volume_rc == -ENOENT ? lg_overlay_check_leftover(d->overlay, d->run_id) : -ENOENT;
        if (volume_rc != -ENOENT) {
            LG_AUTOFREE char *overlay = lg_clean_term(d->overlay);
            if (volume_rc < 0 || (!dry_run && lg_volume_delete_path(conn, d->overlay) < 0)) {
                LG_AUTOFREE char *why = lg_clean_term(lg_error_msg());
                fprintf(stderr, "labgate gc: domain %s: %s\n", name, why);
                failures++;
            } else {
                printf("%s overlay volume %s\n", verb, overlay);
                lg_buf_printf(&reported, "%s\n", d->overlay);
            }
        } else if (overlay_rc != -ENOENT) {
            LG_AUTOFREE char *overlay = lg_clean_term(d->overlay);
            if (overlay_rc < 0 || (!dry_run && lg_overlay_remove(d->overlay) < 0)) {
                LG_AUTOFREE char *why = lg_clean_term(lg_error_msg());
                fprintf(stderr, "labgate gc: domain %s: %s\n", name, why);
                failures++;
            } else {
                printf("%s overlay %s\n", verb, overlay);
                lg_buf_printf(&reported, "%s\n", d->overlay);
            }
        }
    }
    lg_labgate_domains_free(doms, n);
    failures += clean_pool(conn, uri, dry_run, verb, images_days, &reported, &live_overlays, live_run, &found);

    /* overlays and locks in the state directory whose run is gone (a
     * harness killed between creating an overlay and defining its domain) */
    LG_AUTOFREE char *state = lg_state_dir();
    struct stat st;
    DIR *dir = NULL;
    if (lstat(state, &st) == 0 || errno != ENOENT) {
        /* what it finds there decides what root removes: never a directory
         * somebody else could have filled */
        if (lg_state_dir_check(state) < 0) {
            fprintf(stderr, "labgate gc: %s\n", lg_error_msg());
            return LG_EXIT_INCOMPLETE;
        }
        dir = opendir(state);
    }
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        LG_AUTOFREE char *run_id = lg_volume_overlay_run_id(e->d_name);
        bool lock = !run_id && strncmp(e->d_name, "run-", 4) == 0 && strlen(e->d_name) > 9 &&
                    strcmp(e->d_name + strlen(e->d_name) - 5, ".lock") == 0;
        if (lock)
            run_id = lg_strndup(e->d_name + 4, strlen(e->d_name) - 9);
        LG_AUTOFREE char *lock_path = run_id ? lg_run_lock_path(run_id) : NULL;
        if (!run_id || lg_run_lock_held(lock_path))
            continue;
        LG_AUTOFREE char *path = lg_strdup_printf("%s/%s", state, e->d_name);
        LG_AUTOFREE char *line = lg_strdup_printf("\n%s\n", path);
        if (strstr(reported.data, line))
            continue;
        if (lock) {
            int refused = clear_console_logs(path, dry_run, verb);
            failures += refused;
            if (refused)
                continue; /* left for whoever looks into it */
        }
        if (!dry_run && unlink(path) < 0 && access(path, F_OK) == 0) {
            fprintf(stderr, "labgate gc: cannot remove %s\n", path);
            failures++;
            continue;
        }
        if (!lock)
            found++;
        printf("%s %s %s\n", verb, lock ? "stale run lock" : "overlay", path);
    }
    if (dir)
        closedir(dir);
    if (found == 0)
        printf("nothing to clean up on %s or in %s\n", uri, state);
    return failures ? LG_EXIT_INCOMPLETE : 0;
}
