/* virt/pool: where the labgate pool goes on each kind of host URI, the
 * pool and volume XML libvirt is handed (valid by libvirt's own schemas),
 * the names that make volumes recognisable, and the pool calls against
 * libvirt's test:/// driver (it keeps pools and volumes in memory; it has
 * no upload). */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "lg_test.h"
#include "lg_test_xml.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <unistd.h>

#include "base/error.h"
#include "base/sha256.h"
#include "virt/libvirt-priv.h"
#include "virt/conn.h"
#include "virt/pool.h"

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_target_per_uri(void **state)
{
    (void)state;
    char *t = lg_pool_choose_target("qemu:///system", NULL);
    assert_string_equal(t, LG_POOL_SYSTEM_TARGET);
    free(t);
    t = lg_pool_choose_target("qemu+ssh://ci@host.example:2222/system?keyfile=/k", "/elsewhere/images");
    assert_string_equal(t, "/var/lib/libvirt/images/labgate");
    free(t);
    /* a remote session: beside its "default" pool, never a local path */
    t = lg_pool_choose_target("qemu+ssh://lab@127.0.0.1:2022/session", "/home/lab/.local/share/libvirt/images");
    assert_string_equal(t, "/home/lab/.local/share/libvirt/labgate");
    free(t);
    assert_null(lg_pool_choose_target("qemu+ssh://lab@127.0.0.1:2022/session", NULL));
    assert_null(lg_pool_choose_target("qemu+tls://host/session", "relative/images"));
    /* the local session is this user's: libvirt's own default place */
    setenv("XDG_DATA_HOME", "/home/me/.data", 1);
    t = lg_pool_choose_target("qemu:///session", NULL);
    assert_string_equal(t, "/home/me/.data/libvirt/labgate");
    free(t);
    unsetenv("XDG_DATA_HOME");
    setenv("HOME", "/home/me", 1);
    t = lg_pool_choose_target("qemu:///session", NULL);
    assert_string_equal(t, "/home/me/.local/share/libvirt/labgate");
    free(t);
    assert_null(lg_pool_choose_target("test:///default", NULL));
}


static int schema_errors;
static void on_schema_error(void *opaque, const xmlError *err)
{
    (void)opaque;
    print_message("# %s", err->message ? err->message : "?\n");
    schema_errors++;
}

/* Parses xml and validates it against libvirt's schema. */
static xmlDocPtr valid(const char *xml, const char *schema)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "test", NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    LG_AUTOFREE char *path = lg_strdup_printf("%s/%s", LG_LIBVIRT_SCHEMAS, schema);
    xmlRelaxNGParserCtxtPtr pctx = xmlRelaxNGNewParserCtxt(path);
    xmlRelaxNGPtr rng = xmlRelaxNGParse(pctx);
    xmlRelaxNGFreeParserCtxt(pctx);
    assert_non_null(rng);
    xmlRelaxNGValidCtxtPtr vctx = xmlRelaxNGNewValidCtxt(rng);
    schema_errors = 0;
    xmlRelaxNGSetValidStructuredErrors(vctx, (xmlStructuredErrorFunc)on_schema_error, NULL);
    int rc = xmlRelaxNGValidateDoc(vctx, doc);
    xmlRelaxNGFreeValidCtxt(vctx);
    xmlRelaxNGFree(rng);
    if (rc != 0)
        print_message("# %s\n", xml);
    assert_int_equal(rc, 0);
    return doc;
}

static void assert_xpath(xmlDocPtr doc, const char *expr, const char *want)
{
    char *got = lg_test_xpath_string(doc, expr);
    if (strcmp(got, want) != 0)
        print_message("# %s: got '%s', want '%s'\n", expr, got, want);
    assert_string_equal(got, want);
    free(got);
}

static void test_pool_and_volume_xml(void **state)
{
    (void)state;
    LG_AUTOFREE char *pool = lg_pool_xml("labgate", "/var/lib/libvirt/images/lab & <gate>");
    xmlDocPtr doc = valid(pool, "storagepool.rng");
    assert_xpath(doc, "/pool/@type", "dir");
    assert_xpath(doc, "/pool/name", "labgate");
    assert_xpath(doc, "/pool/target/path", "/var/lib/libvirt/images/lab & <gate>");
    assert_xpath(doc, "/pool/target/permissions/mode", "0711");
    xmlFreeDoc(doc);

    LG_AUTOFREE char *image = lg_volume_image_xml("sha256-" HEX);
    doc = valid(image, "storagevol.rng");
    assert_xpath(doc, "/volume/name", "sha256-" HEX);
    assert_xpath(doc, "/volume/capacity", "0");
    assert_xpath(doc, "/volume/target/format/@type", "raw");
    assert_xpath(doc, "/volume/target/permissions/mode", "0644");
    assert_xpath(doc, "count(/volume/backingStore)", "0");
    xmlFreeDoc(doc);

    LG_AUTOFREE char *overlay =
        lg_volume_overlay_xml("labgate-r1-0123456789ab.qcow2", 536870912, "/pool/sha256-" HEX);
    doc = valid(overlay, "storagevol.rng");
    assert_xpath(doc, "/volume/name", "labgate-r1-0123456789ab.qcow2");
    assert_xpath(doc, "/volume/capacity", "536870912");
    assert_xpath(doc, "/volume/capacity/@unit", "bytes");
    assert_xpath(doc, "/volume/target/format/@type", "qcow2");
    assert_xpath(doc, "/volume/target/permissions/mode", "0600");
    assert_xpath(doc, "/volume/backingStore/path", "/pool/sha256-" HEX);
    assert_xpath(doc, "/volume/backingStore/format/@type", "qcow2");
    xmlFreeDoc(doc);
}

static void test_names(void **state)
{
    (void)state;
    LG_AUTOFREE char *name = lg_volume_image_name(HEX);
    assert_string_equal(name, "sha256-" HEX);
    assert_true(lg_volume_is_image(name));
    assert_null(lg_volume_image_name("0123"));
    assert_null(lg_volume_image_name("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_null(lg_volume_image_name("../3456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_null(lg_volume_image_name(NULL));
    assert_false(lg_volume_is_image("sha256-" HEX ".qcow2"));
    assert_false(lg_volume_is_image("sha256-0123"));
    assert_false(lg_volume_is_image("rootfs.qcow2"));

    LG_AUTOFREE char *overlay = lg_volume_overlay_name("20261204-213344-5238", "0123456789ab");
    assert_string_equal(overlay, "labgate-20261204-213344-5238-0123456789ab.qcow2");
    LG_AUTOFREE char *run = lg_volume_overlay_run_id(overlay);
    assert_string_equal(run, "20261204-213344-5238");
    assert_false(lg_volume_is_image(overlay));
    assert_null(lg_volume_overlay_run_id("sha256-" HEX));
    assert_null(lg_volume_overlay_run_id("labgate-0123456789ab.qcow2"));
    assert_null(lg_volume_overlay_run_id("labgate-r-0123456789ab.raw"));
    assert_null(lg_volume_overlay_run_id("somebody-r-0123456789ab.qcow2"));
}

static void test_qcow2_virtual_size(void **state)
{
    (void)state;
    char path[] = "/tmp/lg-qcow2-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unsigned char header[72] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
    header[24 + 3] = 0x01; /* 1 << 32 */
    header[24 + 5] = 0x20; /* + 0x200000 */
    assert_int_equal(write(fd, header, sizeof(header)), (ssize_t)sizeof(header));
    close(fd);
    uint64_t size = 0;
    assert_int_equal(lg_qcow2_virtual_size(path, &size), 0);
    assert_int_equal(size, (1ull << 32) + 0x200000);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "raw bytes, not qcow2 at all, but long enough", 44), 44);
    close(fd);
    size = 7;
    assert_int_equal(lg_qcow2_virtual_size(path, &size), -EINVAL);
    assert_int_equal(size, 7); /* untouched on failure */
    assert_non_null(strstr(lg_error_msg(), "not a qcow2 image"));
    unlink(path);
    assert_int_equal(lg_qcow2_virtual_size(path, &size), -ENOENT);
}

/* test:/// keeps everything in this process: a pool defined, volumes made,
 * listed and deleted, as a run and gc use them. */
static void test_pool_on_test_driver(void **state)
{
    (void)state;
    assert_int_equal(lg_virt_init(), 0);
    lg_conn *conn = NULL;
    assert_int_equal(lg_conn_open("test:///default", &conn), 0);

    lg_pool *missing = NULL;
    assert_int_equal(lg_pool_lookup(conn, &missing), -ENOENT);
    assert_null(missing);
    /* test:/// has no "default" pool of that name and no system path */
    assert_int_equal(lg_pool_open(conn, NULL, &missing), -ENOENT);
    assert_non_null(strstr(lg_error_msg(), "pool-define-as labgate dir"));
    assert_non_null(strstr(lg_error_msg(), "pool-dir"));
    /* the matrix's pool-dir: defined there */
    assert_int_equal(lg_pool_open(conn, "/srv/lab/pool", &missing), 0);
    assert_string_equal(lg_pool_target(missing), "/srv/lab/pool");
    assert_string_equal(lg_pool_name(missing), LG_POOL_NAME);
    lg_pool_free(missing);

    lg_pool *pool = NULL;
    assert_int_equal(lg_pool_open_at(conn, "lgtest", "/lg/pool", &pool), 0);
    assert_string_equal(lg_pool_target(pool), "/lg/pool");
    assert_string_equal(lg_pool_name(pool), "lgtest");
    lg_pool_free(pool);
    /* defined and running now: found again, whatever target is asked */
    assert_int_equal(lg_pool_open_at(conn, "lgtest", "/other", &pool), 0);
    assert_string_equal(lg_pool_target(pool), "/lg/pool");

    char *path = NULL;
    assert_int_equal(lg_pool_overlay_create(pool, "labgate-r9-0123456789ab.qcow2", "/lg/pool/sha256-" HEX,
                                            1 << 20, &path),
                     0);
    assert_string_equal(path, "/lg/pool/labgate-r9-0123456789ab.qcow2");
    assert_true(lg_volume_at(conn, path));
    /* what gc may take for a leftover domain's metadata: only that run's
     * overlay in this pool */
    assert_int_equal(lg_pool_overlay_leftover(pool, path, "r9"), 0);
    assert_int_equal(lg_pool_overlay_leftover(pool, path, "r8"), -EPERM);
    assert_non_null(strstr(lg_error_msg(), "left alone"));
    assert_int_equal(lg_pool_overlay_leftover(pool, "/lg/pool/nothing.qcow2", "r9"), -ENOENT);
    lg_pool *other = NULL;
    assert_int_equal(lg_pool_open_at(conn, "lgother", "/lg/other", &other), 0);
    char *elsewhere = NULL;
    assert_int_equal(lg_pool_overlay_create(other, "labgate-r9-0123456789ab.qcow2", "/x", 1 << 20, &elsewhere), 0);
    assert_int_equal(lg_pool_overlay_leftover(pool, elsewhere, "r9"), -EPERM); /* someone else's pool */
    assert_int_equal(lg_volume_delete_path(conn, elsewhere), 0);
    free(elsewhere);
    lg_pool_free(other);
    lg_pool_volume *vols = NULL;
    size_t n = 0;
    assert_int_equal(lg_pool_volumes(pool, &vols, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(vols[0].name, "labgate-r9-0123456789ab.qcow2");
    assert_string_equal(vols[0].path, path);
    lg_pool_volumes_free(vols, n);
    /* a second one of the same name is refused, with libvirt's reason */
    char *again = NULL;
    assert_true(lg_pool_overlay_create(pool, "labgate-r9-0123456789ab.qcow2", "/x", 1 << 20, &again) < 0);
    assert_null(again);
    assert_non_null(strstr(lg_error_msg(), "labgate-r9-0123456789ab.qcow2"));

    assert_int_equal(lg_volume_delete_path(conn, path), 0);
    assert_false(lg_volume_at(conn, path));
    assert_int_equal(lg_volume_delete_path(conn, path), -ENOENT);
    assert_int_equal(lg_pool_volume_delete(pool, "labgate-r9-0123456789ab.qcow2"), 0); /* gone: fine */
    assert_int_equal(lg_pool_volumes(pool, &vols, &n), 0);
    assert_int_equal(n, 0);
    lg_pool_volumes_free(vols, n);
    free(path);
    lg_pool_free(pool);
    lg_conn_free(conn);
}

/* A volume of a given size made behind labgate's back, as an earlier run
 * (whole) or a killed one (short) left it. */
static void plant_volume(lg_conn *conn, const char *pool_name, const char *name, unsigned long long size)
{
    virStoragePoolPtr p = virStoragePoolLookupByName(lg_conn_virt(conn), pool_name);
    assert_non_null(p);
    LG_AUTOFREE char *xml = lg_strdup_printf("<volume><name>%s</name><capacity unit='bytes'>%llu</capacity>"
                                             "<allocation unit='bytes'>%llu</allocation></volume>",
                                             name, size, size);
    virStorageVolPtr v = virStorageVolCreateXML(p, xml, 0);
    assert_non_null(v);
    virStorageVolFree(v);
    virStoragePoolFree(p);
}

static void on_progress(void *opaque, uint64_t done, uint64_t total)
{
    (void)done; (void)total;
    (*(int *)opaque)++;
}

/* An image whose whole volume is there is reused, not sent again; a short
 * one (an upload cut off) is replaced; an upload the host refuses leaves
 * no volume behind and says why.  (test:/// has no upload at all.) */
static void test_image_reuse_and_refused_upload(void **state)
{
    (void)state;
    assert_int_equal(lg_virt_init(), 0);
    lg_conn *conn = NULL;
    assert_int_equal(lg_conn_open("test:///default", &conn), 0);
    lg_pool *pool = NULL;
    assert_int_equal(lg_pool_open_at(conn, "lgimages", "/lg/images", &pool), 0);
    char file[] = "/tmp/lg-image-XXXXXX";
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "a guest image", 13), 13);
    close(fd);
    char hex[LG_SHA256_HEX_LEN + 1];
    assert_int_equal(lg_sha256_file(file, hex), 0);
    LG_AUTOFREE char *name = lg_volume_image_name(hex);

    plant_volume(conn, "lgimages", name, 13);
    char *path = NULL;
    bool uploaded = true;
    int reports = 0;
    assert_int_equal(lg_pool_image(pool, file, hex, 10000, on_progress, &reports, &path, &uploaded), 0);
    assert_false(uploaded);
    assert_int_equal(reports, 0);
    LG_AUTOFREE char *want = lg_strdup_printf("/lg/images/%s", name);
    assert_string_equal(path, want);
    free(path);
    path = NULL;

    /* short: cut off; uploading it again is what test:/// refuses */
    assert_int_equal(lg_pool_volume_delete(pool, name), 0);
    plant_volume(conn, "lgimages", name, 5);
    assert_true(lg_pool_image(pool, file, hex, 10000, on_progress, &reports, &path, &uploaded) < 0);
    assert_null(path);
    assert_non_null(strstr(lg_error_msg(), "upload of"));
    assert_non_null(strstr(lg_error_msg(), "not supported"));
    assert_false(lg_volume_at(conn, want)); /* neither the short one nor a new one */

    /* not a digest: refused before libvirt is asked */
    assert_int_equal(lg_pool_image(pool, file, "beef", 10000, NULL, NULL, &path, &uploaded), -EINVAL);
    unlink(file);
    lg_pool_free(pool);
    lg_conn_free(conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target_per_uri),
        cmocka_unit_test(test_pool_and_volume_xml),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_qcow2_virtual_size),
        cmocka_unit_test(test_pool_on_test_driver),
        cmocka_unit_test(test_image_reuse_and_refused_upload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
