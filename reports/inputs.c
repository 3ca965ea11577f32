#include "inputs.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/digestcache.h"
#include "base/sha256.h"
#include "lg-config.h"
#include "xmlout.h"

LG_LOG_INIT("inputs");

/* the process-wide cache (base/digestcache.h): a run's staging of images
 * on its hosts reads the digests taken here */
static int hash_cached(void *opaque, const char *path, const struct stat *st,
                       char hex[LG_SHA256_HEX_LEN + 1], uint64_t *size)
{
    (void)opaque;
    return lg_sha256_file_cached(path, st, hex, size);
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
    return xmlNewChild(parent, NULL, (const xmlChar *)name, NULL);
}

static void set(xmlNodePtr node, const char *name, const char *value)
{
    lg_xmlout_set(node, name, value);
}

static void set_u64(xmlNodePtr node, const char *name, uint64_t value)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)value);
    set(node, name, buf);
}

static void add_file_digest(xmlNodePtr node, const char *path)
{
    struct stat st;
    char hex[LG_SHA256_HEX_LEN + 1];
    uint64_t size = 0;
    int rc = stat(path, &st) < 0 ? -errno : 0;
    if (rc < 0)
        lg_error_set("cannot read %s: %s", path, strerror(-rc));
    else if (!S_ISREG(st.st_mode)) {
        lg_error_set("%s is not a regular file", path);
        rc = -EINVAL;
    } else
        rc = hash_cached(NULL, path, &st, hex, &size);
    if (rc < 0) {
        set(node, "error", lg_error_msg());
        return;
    }
    set(node, "sha256", hex);
    set_u64(node, "size", size);
}

static void add_tree(xmlNodePtr inputs, const char *element, const char *id, const char *dir)
{
    xmlNodePtr node = child(inputs, element);
    set(node, "id", id);
    set(node, "dir", dir);
    if (!dir) {
        set(node, "error", "no directory");
        return;
    }
    LG_AUTO(lg_tree) tree = NULL;
    if (lg_sha256_tree(dir, hash_cached, NULL, &tree) < 0) {
        set(node, "error", lg_error_msg());
        return;
    }
    set(node, "sha256", tree->sha256);
    set_u64(node, "files", tree->n_files);
    set_u64(node, "size", tree->total_size);
    for (size_t i = 0; i < tree->n_files; i++) {
        xmlNodePtr f = child(node, "file");
        set(f, "path", tree->files[i].path);
        set(f, "sha256", tree->files[i].sha256);
        set_u64(f, "size", tree->files[i].size);
    }
}

static void add_image(xmlNodePtr inputs, const char *guest, const char *kind, const char *path)
{
    if (!path)
        return;
    xmlNodePtr node = child(inputs, "image");
    set(node, "guest", guest);
    set(node, "kind", kind);
    set(node, "path", path);
    add_file_digest(node, path);
}

int lg_report_add_inputs(xmlNodePtr run, const lg_plan *plan)
{
    const lg_matrix *m = plan->matrix;
    xmlNodePtr inputs = child(run, "inputs");
    if (!inputs)
        return -ENOMEM;
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    xmlNodePtr harness = child(inputs, "harness");
    set(harness, "version", LG_VERSION);
    set(harness, "host", host);
    if (m->path) {
        xmlNodePtr matrix = child(inputs, "matrix");
        set(matrix, "path", m->path);
        add_file_digest(matrix, m->path);
    }

    /* what the plan uses, in matrix order */
    LG_AUTOFREE bool *used_build = lg_calloc(m->n_builds + 1, sizeof(bool));
    LG_AUTOFREE bool *used_content = lg_calloc(m->n_contents + 1, sizeof(bool));
    LG_AUTOFREE bool *used_guest = lg_calloc(m->n_guests + 1, sizeof(bool));
    for (size_t i = 0; i < plan->n_jobs; i++) {
        const lg_job *job = &plan->jobs[i];
        if (job->build >= m->builds && job->build < m->builds + m->n_builds)
            used_build[job->build - m->builds] = true;
        if (job->content >= m->contents && job->content < m->contents + m->n_contents)
            used_content[job->content - m->contents] = true;
        if (job->guest >= m->guests && job->guest < m->guests + m->n_guests)
            used_guest[job->guest - m->guests] = true;
    }
    for (size_t i = 0; i < m->n_builds; i++)
        if (used_build[i])
            add_tree(inputs, "build", m->builds[i].id, m->builds[i].dir);
    for (size_t i = 0; i < m->n_contents; i++)
        if (used_content[i])
            add_tree(inputs, "content", m->contents[i].id, m->contents[i].dir);
    for (size_t i = 0; i < m->n_guests; i++) {
        const lg_profile *p = m->guests[i].profile;
        if (!used_guest[i] || !p)
            continue;
        add_image(inputs, m->guests[i].id, "disk", p->disk);
        add_image(inputs, m->guests[i].id, "kernel", p->kernel);
        add_image(inputs, m->guests[i].id, "initrd", p->initrd);
    }
    return 0;
}

uint64_t lg_report_inputs_bytes_hashed(void)
{
    return lg_sha256_cached_bytes_hashed();
}
