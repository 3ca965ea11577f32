#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/sha256.h"
#include "base/util.h"
#include "libvirt-priv.h"
#include "model/plan.h"

LG_LOG_INIT("pool");

struct lg_pool {
    lg_conn *conn; /* borrowed */
    char *name;
    char *target;
};

/* ------------------------------------------------------------ pure parts */

/* The path of a libvirt URI ("/system" of qemu+ssh://u@h:22/system?x=y),
 * and whether it names a host. */
static char *uri_path(const char *uri, bool *remote)
{
    const char *p = strstr(uri, "://");
    if (!p) {
        *remote = false;
        return lg_strdup("");
    }
    p += 3;
    const char *slash = strchr(p, '/');
    *remote = slash ? slash > p : *p != '\0';
    if (!slash)
        return lg_strdup("");
    return lg_strndup(slash, strcspn(slash, "?#"));
}

char *lg_pool_choose_target(const char *uri, const char *default_target)
{
    bool remote = false;
    LG_AUTOFREE char *path = uri_path(uri ? uri : "", &remote);
    if (strcmp(path, "/system") == 0)
        return lg_strdup(LG_POOL_SYSTEM_TARGET);
    if (default_target && default_target[0] == '/') {
        LG_AUTOFREE char *parent = lg_path_dirname(default_target);
        if (strcmp(parent, "/") == 0)
            return lg_strdup("/labgate");
        return lg_strdup_printf("%s/labgate", parent);
    }
    /* the same user on the same machine: libvirt's session default pool
     * would be $XDG_DATA_HOME/libvirt/images */
    if (strcmp(path, "/session") == 0 && !remote) {
        const char *data = getenv("XDG_DATA_HOME");
        const char *home = getenv("HOME");
        if (data && data[0] == '/')
            return lg_strdup_printf("%s/libvirt/labgate", data);
        if (home && home[0] == '/')
            return lg_strdup_printf("%s/.local/share/libvirt/labgate", home);
    }
    return NULL;
}

static xmlNodePtr add(xmlNodePtr parent, const char *name, const char *content)
{
    return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)content);
}

static void set(xmlNodePtr node, const char *name, const char *value)
{
    xmlSetProp(node, (const xmlChar *)name, (const xmlChar *)value);
}

static char *dump(xmlDocPtr doc)
{
    xmlChar *out = NULL;
    int len = 0;
    xmlDocDumpFormatMemoryEnc(doc, &out, &len, "UTF-8", 1);
    xmlFreeDoc(doc);
    if (!out)
        abort(); /* libxml2's own allocation failed */
    char *s = lg_strdup((const char *)out);
    xmlFree(out);
    return s;
}

static xmlNodePtr new_doc(const char *root, xmlDocPtr *doc)
{
    *doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr node = xmlNewNode(NULL, (const xmlChar *)root);
    xmlDocSetRootElement(*doc, node);
    return node;
}

static void permissions(xmlNodePtr target, const char *mode)
{
    add(add(target, "permissions", NULL), "mode", mode);
}

char *lg_pool_xml(const char *name, const char *target)
{
    xmlDocPtr doc;
    xmlNodePtr pool = new_doc("pool", &doc);
    set(pool, "type", "dir");
    add(pool, "name", name);
    xmlNodePtr t = add(pool, "target", NULL);
    add(t, "path", target);
    /* QEMU's user (under qemu:///system) reaches the volumes by name;
     * nobody lists them */
    permissions(t, "0711");
    return dump(doc);
}

char *lg_volume_image_xml(const char *name)
{
    xmlDocPtr doc;
    xmlNodePtr vol = new_doc("volume", &doc);
    add(vol, "name", name);
    /* empty: the upload writes it from the start, so a volume shorter than
     * its image is one whose upload never finished */
    set(add(vol, "capacity", "0"), "unit", "bytes");
    set(add(vol, "allocation", "0"), "unit", "bytes");
    xmlNodePtr t = add(vol, "target", NULL);
    set(add(t, "format", NULL), "type", "raw");
    /* read-only to everyone but root, as the image files the profiles
     * name: libvirt labels it for QEMU while a domain uses it */
    permissions(t, "0644");
    return dump(doc);
}

char *lg_volume_overlay_xml(const char *name, uint64_t capacity, const char *backing_path)
{
    char num[32];
    snprintf(num, sizeof(num), "%llu", (unsigned long long)capacity);
    xmlDocPtr doc;
    xmlNodePtr vol = new_doc("volume", &doc);
    add(vol, "name", name);
    set(add(vol, "capacity", num), "unit", "bytes");
    xmlNodePtr t = add(vol, "target", NULL);
    set(add(t, "format", NULL), "type", "qcow2");
    /* what the guest writes is the job's alone */
    permissions(t, "0600");
    xmlNodePtr b = add(vol, "backingStore", NULL);
    add(b, "path", backing_path);
    set(add(b, "format", NULL), "type", "qcow2");
    return dump(doc);
}

char *lg_volume_image_name(const char *sha256)
{
    if (!sha256 || strlen(sha256) != LG_SHA256_HEX_LEN || strspn(sha256, "0123456789abcdef") != LG_SHA256_HEX_LEN)
        return NULL;
    return lg_strdup_printf(LG_IMAGE_VOLUME_PREFIX "%s", sha256);
}

bool lg_volume_is_image(const char *name)
{
    size_t prefix = strlen(LG_IMAGE_VOLUME_PREFIX);
    return name && strncmp(name, LG_IMAGE_VOLUME_PREFIX, prefix) == 0 &&
           strlen(name) == prefix + LG_SHA256_HEX_LEN &&
           strspn(name + prefix, "0123456789abcdef") == LG_SHA256_HEX_LEN;
}

char *lg_volume_overlay_name(const char *run_id, const char *job_id)
{
    return lg_strdup_printf("labgate-%s-%s.qcow2", run_id, job_id);
}

char *lg_volume_overlay_run_id(const char *name)
{
    static const char prefix[] = "labgate-", suffix[] = ".qcow2";
    const size_t fixed = strlen(prefix) + 1 + LG_JOB_ID_LEN + strlen(suffix); /* all but RUN */
    size_t len = name ? strlen(name) : 0;
    if (len <= fixed || strncmp(name, prefix, strlen(prefix)) != 0 ||
        strcmp(name + len - strlen(suffix), suffix) != 0)
        return NULL;
    size_t run_len = len - fixed;
    if (name[strlen(prefix) + run_len] != '-')
        return NULL;
    return lg_strndup(name + strlen(prefix), run_len);
}

int lg_qcow2_virtual_size(const char *path, uint64_t *size)
{
    unsigned char header[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        lg_error_set("cannot read %s: %s", path, strerror(err));
        return -err;
    }
    ssize_t got = pread(fd, header, sizeof(header), 0);
    close(fd);
    if (got != (ssize_t)sizeof(header) || memcmp(header, "QFI\xfb", 4) != 0) {
        lg_error_set("%s is not a qcow2 image", path);
        return -EINVAL;
    }
    uint64_t v = 0;
    for (int i = 24; i < 32; i++)
        v = v << 8 | header[i];
    *size = v;
    return 0;
}

/* ------------------------------------------------------------- the pool */

static char *xpath_string(const char *xml, const char *expr)
{
    if (!xml)
        return NULL;
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "libvirt", NULL, XML_PARSE_NONET);
    if (!doc)
        return NULL;
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr obj = ctx ? xmlXPathEvalExpression((const xmlChar *)expr, ctx) : NULL;
    char *s = NULL;
    if (obj && obj->type == XPATH_STRING && obj->stringval && obj->stringval[0])
        s = lg_strdup((const char *)obj->stringval);
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return s;
}

static char *pool_target_path(virStoragePoolPtr pool)
{
    char *xml = virStoragePoolGetXMLDesc(pool, 0);
    char *path = xpath_string(xml, "string(/pool/target/path)");
    free(xml);
    return path;
}

static virStoragePoolPtr lookup(lg_pool *pool)
{
    virStoragePoolPtr p = virStoragePoolLookupByName(lg_conn_virt(pool->conn), pool->name);
    if (!p) {
        LG_AUTOFREE char *what = lg_strdup_printf("storage pool '%s' on %s", pool->name, lg_conn_uri(pool->conn));
        lg_virt_error(what);
    }
    return p;
}

/* Defines, builds and marks autostart; a pool another run defined at the
 * same moment is taken as it is. */
static virStoragePoolPtr define(lg_conn *conn, const char *name, const char *target)
{
    virConnectPtr c = lg_conn_virt(conn);
    LG_AUTOFREE char *xml = lg_pool_xml(name, target);
    virStoragePoolPtr p = virStoragePoolDefineXML(c, xml, 0);
    if (!p) {
        LG_AUTOFREE char *what = lg_strdup_printf("cannot define storage pool '%s' (dir %s) on %s", name, target,
                                                  lg_conn_uri(conn));
        lg_virt_error(what);
        return virStoragePoolLookupByName(c, name);
    }
    LG_DEBUG("defined pool %s at %s on %s", name, target, lg_conn_uri(conn));
    if (virStoragePoolBuild(p, 0) < 0) {
        LG_AUTOFREE char *what = lg_strdup_printf("cannot create directory %s for storage pool '%s' on %s", target,
                                                  name, lg_conn_uri(conn));
        lg_virt_error(what);
        virStoragePoolUndefine(p);
        virStoragePoolFree(p);
        return NULL;
    }
    virStoragePoolSetAutostart(p, 1); /* a convenience: failure is harmless */
    return p;
}

int lg_pool_open_at(lg_conn *conn, const char *name, const char *target, lg_pool **out)
{
    lg_error_clear();
    virConnectPtr c = lg_conn_virt(conn);
    virStoragePoolPtr p = virStoragePoolLookupByName(c, name);
    if (!p && target)
        p = define(conn, name, target);
    if (!p) {
        if (!target && !lg_error_msg()[0])
            lg_error_set("no storage pool '%s' on %s", name, lg_conn_uri(conn));
        return target ? -EACCES : -ENOENT;
    }
    if (virStoragePoolIsActive(p) != 1 && virStoragePoolCreate(p, 0) < 0 && virStoragePoolIsActive(p) != 1) {
        LG_AUTOFREE char *what = lg_strdup_printf("cannot start storage pool '%s' on %s", name, lg_conn_uri(conn));
        lg_virt_error(what);
        virStoragePoolFree(p);
        return -EACCES;
    }
    char *path = pool_target_path(p);
    virStoragePoolFree(p);
    if (!path) {
        lg_error_set("storage pool '%s' on %s has no target path (not a dir pool?)", name, lg_conn_uri(conn));
        return -EINVAL;
    }
    lg_pool *pool = LG_NEW0(lg_pool);
    *pool = (lg_pool){ .conn = conn, .name = lg_strdup(name), .target = path };
    *out = pool;
    return 0;
}

int lg_pool_open(lg_conn *conn, const char *pool_dir, lg_pool **out)
{
    lg_error_clear();
    virConnectPtr c = lg_conn_virt(conn);
    virStoragePoolPtr p = virStoragePoolLookupByName(c, LG_POOL_NAME);
    if (p) {
        virStoragePoolFree(p);
        return lg_pool_open_at(conn, LG_POOL_NAME, NULL, out);
    }
    if (pool_dir)
        return lg_pool_open_at(conn, LG_POOL_NAME, pool_dir, out);
    virStoragePoolPtr def = virStoragePoolLookupByName(c, "default");
    LG_AUTOFREE char *default_target = def ? pool_target_path(def) : NULL;
    if (def)
        virStoragePoolFree(def);
    LG_AUTOFREE char *target = lg_pool_choose_target(lg_conn_uri(conn), default_target);
    if (!target) {
        lg_error_set("%s has no storage pool '%s' and none named 'default' to put it beside: give the host a "
                     "pool-dir in the matrix, or define one, e.g. "
                     "virsh -c %s pool-define-as %s dir --target DIR && virsh -c %s pool-build %s",
                     lg_conn_uri(conn), LG_POOL_NAME, lg_conn_uri(conn), LG_POOL_NAME, lg_conn_uri(conn),
                     LG_POOL_NAME);
        return -ENOENT;
    }
    return lg_pool_open_at(conn, LG_POOL_NAME, target, out);
}

int lg_pool_lookup(lg_conn *conn, lg_pool **out)
{
    return lg_pool_open_at(conn, LG_POOL_NAME, NULL, out);
}

void lg_pool_free(lg_pool *pool)
{
    if (!pool)
        return;
    free(pool->name);
    free(pool->target);
    free(pool);
}

const char *lg_pool_target(lg_pool *pool)
{
    return pool->target;
}

const char *lg_pool_name(lg_pool *pool)
{
    return pool->name;
}

/* ------------------------------------------------------------- volumes */

static virStorageVolPtr vol_lookup(lg_pool *pool, const char *name)
{
    virStoragePoolPtr p = lookup(pool);
    if (!p)
        return NULL;
    virStorageVolPtr v = virStorageVolLookupByName(p, name);
    virStoragePoolFree(p);
    return v;
}

static virStorageVolPtr vol_create(lg_pool *pool, const char *xml, const char *name)
{
    virStoragePoolPtr p = lookup(pool);
    if (!p)
        return NULL;
    virStorageVolPtr v = virStorageVolCreateXML(p, xml, 0);
    if (!v) {
        LG_AUTOFREE char *what = lg_strdup_printf("cannot create volume %s in storage pool '%s' on %s", name,
                                                  pool->name, lg_conn_uri(pool->conn));
        lg_virt_error(what);
    }
    virStoragePoolFree(p);
    return v;
}

static char *vol_path(virStorageVolPtr v, const char *name)
{
    char *path = virStorageVolGetPath(v);
    if (!path) {
        LG_AUTOFREE char *what = lg_strdup_printf("volume %s has no path", name);
        lg_virt_error(what);
    }
    return path;
}

static int64_t leading_integer(const char *text);

/* The volume's size on disk (for a dir pool: its file's size).  A driver
 * without VIR_STORAGE_VOL_GET_PHYSICAL: the XML's <physical>, else (a
 * driver older still) its <allocation>. */
static int vol_physical(virStorageVolPtr v, uint64_t *size)
{
    virStorageVolInfo info;
    if (virStorageVolGetInfoFlags(v, &info, VIR_STORAGE_VOL_GET_PHYSICAL) == 0) {
        *size = info.allocation; /* the physical size, with that flag */
        return 0;
    }
    char *xml = virStorageVolGetXMLDesc(v, 0);
    LG_AUTOFREE char *physical = xpath_string(xml, "string(/volume/physical)");
    LG_AUTOFREE char *allocation = physical ? NULL : xpath_string(xml, "string(/volume/allocation)");
    free(xml);
    int64_t bytes = leading_integer(physical ? physical : allocation);
    if (!physical && !allocation) {
        lg_virt_error("cannot read the volume's size");
        return -EIO;
    }
    *size = (uint64_t)bytes;
    return 0;
}

typedef struct transfer {
    const char *what;      /* for messages */
    lg_deadline dl;
    lg_pool_progress_fn progress;
    void *opaque;
    uint64_t total;
    int64_t said_ms;
} transfer;

static void report(transfer *t, uint64_t done)
{
    int64_t now = lg_now_ms();
    if (!t->progress || (done < t->total && now - t->said_ms < 1000))
        return;
    t->said_ms = now;
    t->progress(t->opaque, done, t->total);
}

static int overdue(transfer *t, virStreamPtr st)
{
    if (!lg_deadline_passed(t->dl))
        return 0;
    virStreamAbort(st);
    lg_error_set("%s: not done within its deadline", t->what);
    return -ETIMEDOUT;
}

static int send_all(virStreamPtr st, const char *buf, size_t len)
{
    while (len > 0) {
        int sent = virStreamSend(st, buf, len);
        if (sent <= 0)
            return -EIO;
        buf += sent;
        len -= (size_t)sent;
    }
    return 0;
}

/* The file's bytes into the stream, data in chunks and holes as holes
 * (when sparse). */
static int upload_stream(virStreamPtr st, int fd, uint64_t size, bool sparse, transfer *t)
{
    LG_AUTOFREE char *buf = lg_malloc0(LG_POOL_CHUNK_BYTES);
    uint64_t offset = 0;
    while (offset < size) {
        int rc = overdue(t, st);
        if (rc < 0)
            return rc;
        uint64_t data_end = size;
        if (sparse) {
            off_t data = lseek(fd, (off_t)offset, SEEK_DATA);
            if (data < 0 || (uint64_t)data > size)
                data = (off_t)size; /* ENXIO: a hole up to the end */
            if ((uint64_t)data > offset) {
                if (virStreamSendHole(st, (long long)((uint64_t)data - offset), 0) < 0) {
                    lg_virt_error(t->what);
                    virStreamAbort(st);
                    return -EIO;
                }
                offset = (uint64_t)data;
                continue;
            }
            off_t hole = lseek(fd, (off_t)offset, SEEK_HOLE);
            if (hole > 0 && (uint64_t)hole < size)
                data_end = (uint64_t)hole;
        }
        size_t want = data_end - offset < LG_POOL_CHUNK_BYTES ? (size_t)(data_end - offset) : LG_POOL_CHUNK_BYTES;
        ssize_t got = pread(fd, buf, want, (off_t)offset);
        if (got <= 0) {
            int err = got < 0 ? errno : EIO;
            lg_error_set("%s: cannot read the image: %s", t->what, got < 0 ? strerror(err) : "it shrank");
            virStreamAbort(st);
            return -err;
        }
        if (send_all(st, buf, (size_t)got) < 0) {
            lg_virt_error(t->what);
            virStreamAbort(st);
            return -EIO;
        }
        offset += (uint64_t)got;
        report(t, offset);
    }
    if (virStreamFinish(st) < 0) {
        lg_virt_error(t->what);
        return -EIO;
    }
    return 0;
}

static int upload(virStorageVolPtr v, const char *local_path, uint64_t size, transfer *t)
{
    int fd = open(local_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        lg_error_set("cannot read %s: %s", local_path, strerror(err));
        return -err;
    }
    virConnectPtr c = virStorageVolGetConnect(v);
    int rc = -EIO;
    for (int sparse = 1; sparse >= 0; sparse--) {
        virStreamPtr st = virStreamNew(c, 0);
        if (!st)
            break;
        if (virStorageVolUpload(v, st, 0, size, sparse ? VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM : 0) < 0) {
            lg_virt_error(t->what);
            virStreamFree(st);
            LG_DEBUG("%s%s", lg_error_msg(), sparse ? ": trying without a sparse stream" : "");
            continue; /* an older daemon without sparse streams */
        }
        rc = upload_stream(st, fd, size, sparse, t);
        virStreamFree(st);
        break;
    }
    close(fd);
    return rc;
}

/* Downloads the volume and hashes what arrived. */
static int download_digest(virStorageVolPtr v, uint64_t size, transfer *t, char hex[LG_SHA256_HEX_LEN + 1])
{
    virStreamPtr st = virStreamNew(virStorageVolGetConnect(v), 0);
    if (!st || virStorageVolDownload(v, st, 0, size, 0) < 0) {
        lg_virt_error(t->what);
        if (st)
            virStreamFree(st);
        return -EIO;
    }
    LG_AUTOFREE char *buf = lg_malloc0(LG_POOL_CHUNK_BYTES);
    lg_sha256 ctx;
    lg_sha256_init(&ctx);
    uint64_t got_total = 0;
    int rc = 0;
    for (;;) {
        if ((rc = overdue(t, st)) < 0)
            break;
        int got = virStreamRecv(st, buf, LG_POOL_CHUNK_BYTES);
        if (got < 0) {
            lg_virt_error(t->what);
            virStreamAbort(st);
            rc = -EIO;
            break;
        }
        if (got == 0) {
            if (virStreamFinish(st) < 0) {
                lg_virt_error(t->what);
                rc = -EIO;
            }
            break;
        }
        lg_sha256_update(&ctx, buf, (size_t)got);
        got_total += (uint64_t)got;
        report(t, got_total);
    }
    virStreamFree(st);
    if (rc < 0)
        return rc;
    uint8_t digest[LG_SHA256_LEN];
    lg_sha256_final(&ctx, digest);
    lg_sha256_to_hex(digest, hex);
    if (got_total != size) {
        lg_error_set("%s: %llu bytes came back of %llu", t->what, (unsigned long long)got_total,
                     (unsigned long long)size);
        return -EIO;
    }
    return 0;
}

static void vol_drop(virStorageVolPtr v)
{
    if (virStorageVolDelete(v, 0) < 0)
        LG_DEBUG("cannot delete a bad volume: %s", virGetLastErrorMessage());
}

int lg_pool_image(lg_pool *pool, const char *local_path, const char *sha256, int64_t timeout_ms,
                  lg_pool_progress_fn progress, void *opaque, char **path, bool *uploaded)
{
    lg_error_clear();
    LG_AUTOFREE char *name = lg_volume_image_name(sha256);
    if (!name) {
        lg_error_set("not a SHA-256 digest: %s", sha256 ? sha256 : "(none)");
        return -EINVAL;
    }
    struct stat st;
    if (stat(local_path, &st) < 0 || !S_ISREG(st.st_mode)) {
        int err = errno ? errno : EINVAL;
        lg_error_set("cannot read %s: %s", local_path, strerror(err));
        return -err;
    }
    uint64_t size = (uint64_t)st.st_size;
    virStorageVolPtr v = vol_lookup(pool, name);
    if (v) {
        uint64_t have = 0;
        if (vol_physical(v, &have) == 0 && have == size) {
            char *p = vol_path(v, name);
            virStorageVolFree(v);
            if (!p)
                return -EIO;
            LG_DEBUG("%s: reusing %s", local_path, name);
            *path = p;
            *uploaded = false;
            return 0;
        }
        /* an upload that never finished (a killed run): again */
        LG_DEBUG("%s: %s is %llu bytes of %llu: uploading it again", local_path, name, (unsigned long long)have,
                 (unsigned long long)size);
        vol_drop(v);
        virStorageVolFree(v);
    }
    LG_AUTOFREE char *xml = lg_volume_image_xml(name);
    v = vol_create(pool, xml, name);
    if (!v)
        return -EIO;
    LG_AUTOFREE char *what = lg_strdup_printf("upload of %s to %s (volume %s)", local_path,
                                              lg_conn_uri(pool->conn), name);
    transfer t = { .what = what, .dl = lg_deadline_in_ms(timeout_ms), .progress = progress, .opaque = opaque,
                   .total = size };
    if (progress)
        progress(opaque, 0, size);
    int64_t start_ms = lg_now_ms();
    int rc = upload(v, local_path, size, &t);
    int64_t sent_ms = lg_now_ms();
    char hex[LG_SHA256_HEX_LEN + 1] = "";
    uint64_t have = 0;
    if (rc == 0 && (rc = vol_physical(v, &have)) == 0 && have != size) {
        lg_error_set("%s: the volume holds %llu bytes of %llu", what, (unsigned long long)have,
                     (unsigned long long)size);
        rc = -EIO;
    }
    /* what arrived, hashed: the file could have changed since its digest
     * was taken, or the transfer broken it (the progress line stays at
     * "M MiB of M" meanwhile) */
    t.progress = NULL;
    if (rc == 0 && (rc = download_digest(v, size, &t, hex)) == 0 && strcmp(hex, sha256) != 0) {
        lg_error_set("%s: what arrived has SHA-256 %s, not %s (the file changed while it was read?)", what, hex,
                     sha256);
        rc = -EIO;
    }
    if (rc == 0)
        LG_DEBUG("%s: %llu bytes sent in %.2f s, downloaded and hashed in %.2f s", what, (unsigned long long)size,
                 (double)(sent_ms - start_ms) / 1000.0, (double)(lg_now_ms() - sent_ms) / 1000.0);
    char *p = rc == 0 ? vol_path(v, name) : NULL;
    if (rc == 0 && !p)
        rc = -EIO;
    if (rc < 0) {
        lg_error_saved saved;
        lg_error_save(&saved);
        vol_drop(v);
        lg_error_restore(&saved);
    }
    virStorageVolFree(v);
    if (rc < 0)
        return rc;
    *path = p;
    *uploaded = true;
    return 0;
}

int lg_pool_overlay_create(lg_pool *pool, const char *name, const char *backing_path, uint64_t capacity,
                           char **path)
{
    lg_error_clear();
    LG_AUTOFREE char *xml = lg_volume_overlay_xml(name, capacity, backing_path);
    virStorageVolPtr v = vol_create(pool, xml, name);
    if (!v)
        return -EIO;
    char *p = vol_path(v, name);
    if (!p)
        vol_drop(v);
    virStorageVolFree(v);
    if (!p)
        return -EIO;
    LG_DEBUG("overlay %s on %s", p, backing_path);
    *path = p;
    return 0;
}

int lg_pool_volume_delete(lg_pool *pool, const char *name)
{
    lg_error_clear();
    virStoragePoolPtr p = lookup(pool);
    if (!p)
        return -EIO;
    virStorageVolPtr v = virStorageVolLookupByName(p, name);
    virStoragePoolFree(p);
    if (!v)
        return 0;
    int rc = 0;
    if (virStorageVolDelete(v, 0) < 0) {
        LG_AUTOFREE char *what = lg_strdup_printf("cannot delete volume %s from storage pool '%s' on %s", name,
                                                  pool->name, lg_conn_uri(pool->conn));
        lg_virt_error(what);
        rc = -EIO;
    }
    virStorageVolFree(v);
    return rc;
}

int lg_volume_delete_path(lg_conn *conn, const char *path)
{
    lg_error_clear();
    virStorageVolPtr v = virStorageVolLookupByPath(lg_conn_virt(conn), path);
    if (!v) {
        lg_error_set("no storage volume at %s on %s", path, lg_conn_uri(conn));
        return -ENOENT;
    }
    int rc = 0;
    if (virStorageVolDelete(v, 0) < 0) {
        LG_AUTOFREE char *what = lg_strdup_printf("cannot delete volume %s on %s", path, lg_conn_uri(conn));
        lg_virt_error(what);
        rc = -EIO;
    }
    virStorageVolFree(v);
    return rc;
}

int lg_pool_overlay_leftover(lg_pool *pool, const char *path, const char *run_id)
{
    lg_error_clear();
    virStorageVolPtr v = virStorageVolLookupByPath(lg_conn_virt(pool->conn), path);
    if (!v)
        return -ENOENT;
    virStoragePoolPtr p = virStoragePoolLookupByVolume(v);
    const char *pool_name = p ? virStoragePoolGetName(p) : NULL;
    bool ours = pool_name && strcmp(pool_name, pool->name) == 0;
    LG_AUTOFREE char *volume_run = lg_volume_overlay_run_id(virStorageVolGetName(v));
    if (p)
        virStoragePoolFree(p);
    virStorageVolFree(v);
    if (!ours || !volume_run || strcmp(volume_run, run_id) != 0) {
        lg_error_set("%s is not an overlay volume of run %s in storage pool '%s': left alone", path, run_id,
                     pool->name);
        return -EPERM;
    }
    return 0;
}

bool lg_volume_at(lg_conn *conn, const char *path)
{
    virStorageVolPtr v = virStorageVolLookupByPath(lg_conn_virt(conn), path);
    if (v)
        virStorageVolFree(v);
    return v != NULL;
}

/* The integer libvirt writes ("42729472" bytes, or the seconds of
 * "SECONDS.NANOSECONDS"); 0 when it is not one */
static int64_t leading_integer(const char *text)
{
    if (!text)
        return 0;
    char *end = NULL;
    errno = 0;
    long long s = strtoll(text, &end, 10);
    if (errno || end == text || (*end != '\0' && *end != '.') || s < 0)
        return 0;
    return s;
}

void lg_pool_volumes_free(lg_pool_volume *vols, size_t n)
{
    for (size_t i = 0; vols && i < n; i++) {
        free(vols[i].name);
        free(vols[i].path);
    }
    free(vols);
}

int lg_pool_volumes(lg_pool *pool, lg_pool_volume **out, size_t *n)
{
    lg_error_clear();
    virStoragePoolPtr p = lookup(pool);
    if (!p)
        return -EIO;
    /* volumes another client made since the daemon last looked */
    virStoragePoolRefresh(p, 0);
    virStorageVolPtr *all = NULL;
    int count = virStoragePoolListAllVolumes(p, &all, 0);
    virStoragePoolFree(p);
    if (count < 0) {
        lg_virt_error("cannot list the pool's volumes");
        return -EIO;
    }
    lg_pool_volume *list = lg_calloc((size_t)count + 1, sizeof(*list));
    size_t found = 0;
    for (int i = 0; i < count; i++) {
        const char *name = virStorageVolGetName(all[i]);
        char *path = name ? virStorageVolGetPath(all[i]) : NULL;
        if (path) {
            lg_pool_volume *vol = &list[found++];
            vol->name = lg_strdup(name);
            vol->path = path;
            char *xml = virStorageVolGetXMLDesc(all[i], 0);
            LG_AUTOFREE char *mtime = xpath_string(xml, "string(/volume/target/timestamps/mtime)");
            free(xml);
            vol->mtime_s = leading_integer(mtime);
        }
        virStorageVolFree(all[i]);
    }
    free(all);
    *out = list;
    *n = found;
    return 0;
}

int lg_pool_volume_fetch(lg_pool *pool, const char *name, const char *local_path, uint64_t max_bytes,
                         int64_t timeout_ms)
{
    lg_error_clear();
    virStoragePoolPtr p = lookup(pool);
    if (!p)
        return -EIO;
    /* the file was written behind libvirt's back (a dump): list it */
    if (virStoragePoolRefresh(p, 0) < 0)
        LG_DEBUG("refresh of '%s': %s", pool->name, virGetLastErrorMessage());
    virStorageVolPtr v = virStorageVolLookupByName(p, name);
    virStoragePoolFree(p);
    if (!v) {
        lg_error_set("no volume %s in storage pool '%s' on %s", name, pool->name, lg_conn_uri(pool->conn));
        return -ENOENT;
    }
    LG_AUTOFREE char *what = lg_strdup_printf("download of %s from %s", name, lg_conn_uri(pool->conn));
    transfer t = { .what = what, .dl = lg_deadline_in_ms(timeout_ms) };
    uint64_t size = 0;
    int rc = vol_physical(v, &size);
    if (rc == 0 && size > max_bytes) {
        lg_error_set("%s: %llu bytes, more than the %llu allowed", what, (unsigned long long)size,
                     (unsigned long long)max_bytes);
        rc = -EFBIG;
    }
    virStreamPtr st = NULL;
    if (rc == 0) {
        st = virStreamNew(virStorageVolGetConnect(v), 0);
        if (!st || virStorageVolDownload(v, st, 0, size, 0) < 0) {
            lg_virt_error(what);
            rc = -EIO;
        }
    }
    int fd = -1;
    if (rc == 0 && (fd = open(local_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
        rc = -errno;
        lg_error_set("%s: cannot write %s: %s", what, local_path, strerror(-rc));
        virStreamAbort(st);
    }
    LG_AUTOFREE char *buf = rc == 0 ? lg_malloc0(LG_POOL_CHUNK_BYTES) : NULL;
    uint64_t total = 0;
    while (rc == 0) {
        if ((rc = overdue(&t, st)) < 0)
            break;
        int got = virStreamRecv(st, buf, LG_POOL_CHUNK_BYTES);
        if (got < 0) {
            lg_virt_error(what);
            virStreamAbort(st);
            rc = -EIO;
        } else if (got == 0) {
            if (virStreamFinish(st) < 0) {
                lg_virt_error(what);
                rc = -EIO;
            }
            break;
        } else if ((total += (uint64_t)got) > max_bytes) {
            lg_error_set("%s: more than the %llu bytes allowed", what, (unsigned long long)max_bytes);
            virStreamAbort(st);
            rc = -EFBIG;
        } else if (write(fd, buf, (size_t)got) != got) {
            rc = errno ? -errno : -ENOSPC;
            lg_error_set("%s: cannot write %s: %s", what, local_path, strerror(-rc));
            virStreamAbort(st);
        }
    }
    if (st)
        virStreamFree(st);
    virStorageVolFree(v);
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0 && fd >= 0)
        unlink(local_path); /* a partial file is no evidence */
    return rc;
}
