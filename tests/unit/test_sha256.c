/* base/sha256: FIPS 180-4 SHA-256 against the NIST example vectors (FIPS
 * 180-2 appendix B, RFC 6234), streaming in every split, files, and the tree
 * digest of a directory against what GNU sha256sum gives for the same tree. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lg_test.h"

#include "base/error.h"
#include "base/sha256.h"

static const char MSG_448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char MSG_896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                              "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MILLION_A_SHA256 "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static void assert_digest(const char *msg, size_t len, const char *expected)
{
    char hex[LG_SHA256_HEX_LEN + 1];
    lg_sha256_hex(msg, len, hex);
    assert_string_equal(hex, expected);
}

static void test_nist_vectors(void **state)
{
    (void)state;
    assert_digest("", 0, EMPTY_SHA256);
    assert_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(strlen(MSG_448) * 8, 448);
    assert_digest(MSG_448, strlen(MSG_448), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert_int_equal(strlen(MSG_896) * 8, 896);
    assert_digest(MSG_896, strlen(MSG_896), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a_streamed(void **state)
{
    (void)state;
    /* in pieces of 1000 that never line up with the 64-byte blocks */
    char thousand[1000];
    memset(thousand, 'a', sizeof(thousand));
    lg_sha256 ctx;
    lg_sha256_init(&ctx);
    for (int i = 0; i < 1000; i++)
        lg_sha256_update(&ctx, thousand, sizeof(thousand));
    uint8_t digest[LG_SHA256_LEN];
    lg_sha256_final(&ctx, digest);
    char hex[LG_SHA256_HEX_LEN + 1];
    lg_sha256_to_hex(digest, hex);
    assert_string_equal(hex, MILLION_A_SHA256);

    /* and in one piece */
    char *million = malloc(1000000);
    assert_non_null(million);
    memset(million, 'a', 1000000);
    assert_digest(million, 1000000, MILLION_A_SHA256);
    free(million);
}

/* Lengths around the padding boundaries: the length field fits in the last
 * block (55), just does not (56), and whole blocks (64, 120). */
static void test_padding_boundaries(void **state)
{
    (void)state;
    static const struct { size_t len; const char *sha256; } cases[] = {
        { 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
        { 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
        { 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
        { 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
        { 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
        { 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
        { 120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
    };
    char a[128];
    memset(a, 'a', sizeof(a));
    for (size_t i = 0; i < LG_N_ELEMENTS(cases); i++)
        assert_digest(a, cases[i].len, cases[i].sha256);
}

static void test_every_split_gives_the_same_digest(void **state)
{
    (void)state;
    size_t len = strlen(MSG_896);
    for (size_t first = 0; first <= len; first++)
        for (size_t second = first; second <= len; second += 7) {
            lg_sha256 ctx;
            lg_sha256_init(&ctx);
            lg_sha256_update(&ctx, MSG_896, first);
            lg_sha256_update(&ctx, MSG_896 + first, second - first);
            lg_sha256_update(&ctx, MSG_896 + second, len - second);
            uint8_t digest[LG_SHA256_LEN];
            lg_sha256_final(&ctx, digest);
            char hex[LG_SHA256_HEX_LEN + 1];
            lg_sha256_to_hex(digest, hex);
            assert_string_equal(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
        }
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    assert_int_equal(lg_write_file(path, data, len), 0);
}

static void test_file_digest(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *path = lg_strdup_printf("%s/million", s->dir);
    char *million = malloc(1000000);
    assert_non_null(million);
    memset(million, 'a', 1000000);
    write_bytes(path, million, 1000000);
    free(million);
    char hex[LG_SHA256_HEX_LEN + 1];
    uint64_t size = 0;
    assert_int_equal(lg_sha256_file_sized(path, hex, &size), 0);
    assert_string_equal(hex, MILLION_A_SHA256);
    assert_int_equal(size, 1000000);

    LG_AUTOFREE char *empty = lg_strdup_printf("%s/empty", s->dir);
    write_bytes(empty, "", 0);
    assert_int_equal(lg_sha256_file(empty, hex), 0);
    assert_string_equal(hex, EMPTY_SHA256);

    /* a missing file: the errno, a message naming it, the output untouched */
    LG_AUTOFREE char *missing = lg_strdup_printf("%s/no-such-file", s->dir);
    strcpy(hex, "untouched");
    assert_int_equal(lg_sha256_file(missing, hex), -ENOENT);
    assert_string_equal(hex, "untouched");
    assert_non_null(strstr(lg_error_msg(), missing));
}

/* The same tree as the shell pipeline in base/sha256.h was run on:
 *   (cd t && find -L . -type f -printf '%P\0' | LC_ALL=C sort -z |
 *    xargs -0 -r sha256sum --) | sha256sum
 * gave 556e0aa3... with these manifest lines. */
static char *make_tree(const tmpdir_suite *s, const char *name)
{
    char *root = lg_strdup_printf("%s/%s", s->dir, name);
    LG_AUTOFREE char *sub = lg_strdup_printf("%s/sub", root);
    LG_AUTOFREE char *empty = lg_strdup_printf("%s/empty", root);
    assert_int_equal(lg_mkdir_p(sub, 0755), 0);
    assert_int_equal(lg_mkdir_p(empty, 0755), 0);
    const struct { const char *rel; const char *data; size_t len; } files[] = {
        { "install.sh", "install\n", 8 },
        { "a-c", "hello", 5 },
        { "sub/b.bin", "\x00\x01\x02", 3 },
        { "we\\ird", "x", 1 },
        { "new\nline", "y", 1 },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(files); i++) {
        LG_AUTOFREE char *path = lg_strdup_printf("%s/%s", root, files[i].rel);
        write_bytes(path, files[i].data, files[i].len);
    }
    const struct { const char *target, *rel; } links[] = {
        { "sub/b.bin", "link-to-b" }, { "nowhere", "dangling" }, { "sub", "linkdir" },
    };
    for (size_t i = 0; i < LG_N_ELEMENTS(links); i++) {
        LG_AUTOFREE char *path = lg_strdup_printf("%s/%s", root, links[i].rel);
        assert_int_equal(symlink(links[i].target, path), 0);
    }
    LG_AUTOFREE char *fifo = lg_strdup_printf("%s/fifo", root);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    return root;
}

static void test_tree_digest_matches_sha256sum(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *root = make_tree(s, "tree");
    LG_AUTO(lg_tree) tree = NULL;
    assert_int_equal(lg_sha256_tree(root, NULL, NULL, &tree), 0);
    /* links followed, dangling link, FIFO and empty directory skipped */
    static const char *const paths[] = {
        "a-c", "install.sh", "link-to-b", "linkdir/b.bin", "new\nline", "sub/b.bin", "we\\ird",
    };
    assert_int_equal(tree->n_files, LG_N_ELEMENTS(paths));
    for (size_t i = 0; i < LG_N_ELEMENTS(paths); i++)
        assert_string_equal(tree->files[i].path, paths[i]);
    assert_string_equal(tree->files[0].sha256, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assert_int_equal(tree->files[0].size, 5);
    assert_int_equal(tree->total_size, 5 + 8 + 3 + 3 + 1 + 3 + 1);

    LG_AUTOFREE char *plain = lg_tree_manifest_line(&tree->files[1]);
    assert_string_equal(plain, "5f4d551babaafb59dc80d94b1a3c2d5c97471e78a10c00263743b1b5678e0ef2  install.sh\n");
    LG_AUTOFREE char *newline = lg_tree_manifest_line(&tree->files[4]);
    assert_string_equal(newline, "\\a1fce4363854ff888cff4b8e7875d600c2682390412a8cf79b37d0b11148b0fa  new\\nline\n");
    LG_AUTOFREE char *backslash = lg_tree_manifest_line(&tree->files[6]);
    assert_string_equal(backslash, "\\2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881  we\\\\ird\n");

    assert_string_equal(tree->sha256, "556e0aa3aa29b7f82a3093799788cb868899d76926d94610cb5d7da4b5a4ba93");

    /* the same with a trailing slash on the directory */
    LG_AUTOFREE char *slashed = lg_strdup_printf("%s/", root);
    LG_AUTO(lg_tree) again = NULL;
    assert_int_equal(lg_sha256_tree(slashed, NULL, NULL, &again), 0);
    assert_string_equal(again->sha256, tree->sha256);
    assert_string_equal(again->files[3].path, "linkdir/b.bin");
}

static void test_tree_changes_with_contents_and_names(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *root = lg_strdup_printf("%s/changes", s->dir);
    assert_int_equal(lg_mkdir_p(root, 0755), 0);
    LG_AUTOFREE char *file = lg_strdup_printf("%s/channel-291.sys", root);
    LG_AUTOFREE char *renamed = lg_strdup_printf("%s/channel-292.sys", root);
    write_bytes(file, "AAAA", 4);
    LG_AUTO(lg_tree) first = NULL;
    assert_int_equal(lg_sha256_tree(root, NULL, NULL, &first), 0);

    write_bytes(file, "AAAB", 4);
    LG_AUTO(lg_tree) edited = NULL;
    assert_int_equal(lg_sha256_tree(root, NULL, NULL, &edited), 0);
    assert_string_not_equal(edited->sha256, first->sha256);

    write_bytes(file, "AAAA", 4);
    LG_AUTO(lg_tree) restored = NULL;
    assert_int_equal(lg_sha256_tree(root, NULL, NULL, &restored), 0);
    assert_string_equal(restored->sha256, first->sha256);

    /* the same bytes under another name are another tree */
    assert_int_equal(rename(file, renamed), 0);
    LG_AUTO(lg_tree) moved = NULL;
    assert_int_equal(lg_sha256_tree(root, NULL, NULL, &moved), 0);
    assert_string_not_equal(moved->sha256, first->sha256);
    assert_string_equal(moved->files[0].sha256, first->files[0].sha256);
}

static void test_tree_empty_and_errors(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *empty = lg_strdup_printf("%s/empty-tree", s->dir);
    assert_int_equal(lg_mkdir_p(empty, 0755), 0);
    LG_AUTO(lg_tree) tree = NULL;
    assert_int_equal(lg_sha256_tree(empty, NULL, NULL, &tree), 0);
    assert_int_equal(tree->n_files, 0);
    assert_string_equal(tree->sha256, EMPTY_SHA256);

    LG_AUTO(lg_tree) none = NULL;
    LG_AUTOFREE char *missing = lg_strdup_printf("%s/no-such-dir", s->dir);
    assert_int_equal(lg_sha256_tree(missing, NULL, NULL, &none), -ENOENT);
    assert_null(none);
    LG_AUTOFREE char *file = lg_strdup_printf("%s/plain-file", s->dir);
    write_bytes(file, "x", 1);
    assert_int_equal(lg_sha256_tree(file, NULL, NULL, &none), -ENOTDIR);
    assert_null(none);

    /* a link back to an ancestor would be uploaded forever: refuse it */
    LG_AUTOFREE char *loop = lg_strdup_printf("%s/loop/inner", s->dir);
    assert_int_equal(lg_mkdir_p(loop, 0755), 0);
    LG_AUTOFREE char *back = lg_strdup_printf("%s/loop/inner/up", s->dir);
    assert_int_equal(symlink("..", back), 0);
    LG_AUTOFREE char *loop_root = lg_strdup_printf("%s/loop", s->dir);
    assert_int_equal(lg_sha256_tree(loop_root, NULL, NULL, &none), -ELOOP);
    assert_null(none);
    assert_non_null(strstr(lg_error_msg(), "cycle"));

    /* an unreadable file fails the tree, naming the file (root reads anything) */
    if (geteuid() != 0) {
        LG_AUTOFREE char *locked_dir = lg_strdup_printf("%s/locked", s->dir);
        assert_int_equal(lg_mkdir_p(locked_dir, 0755), 0);
        LG_AUTOFREE char *locked = lg_strdup_printf("%s/secret", locked_dir);
        write_bytes(locked, "x", 1);
        assert_int_equal(chmod(locked, 0), 0);
        assert_int_equal(lg_sha256_tree(locked_dir, NULL, NULL, &none), -EACCES);
        assert_non_null(strstr(lg_error_msg(), locked));
    }
}

typedef struct counting {
    int calls;
} counting;

static int count_and_hash(void *opaque, const char *path, const struct stat *st,
                          char hex[LG_SHA256_HEX_LEN + 1], uint64_t *size)
{
    counting *c = opaque;
    c->calls++;
    assert_true(S_ISREG(st->st_mode));
    return lg_sha256_file_sized(path, hex, size);
}

static int failing_hasher(void *opaque, const char *path, const struct stat *st,
                          char hex[LG_SHA256_HEX_LEN + 1], uint64_t *size)
{
    (void)opaque, (void)path, (void)st, (void)hex, (void)size;
    return -EIO;
}

static void test_tree_custom_hasher(void **state)
{
    const tmpdir_suite *s = *state;
    LG_AUTOFREE char *root = make_tree(s, "hasher");
    counting c = { 0 };
    LG_AUTO(lg_tree) tree = NULL;
    assert_int_equal(lg_sha256_tree(root, count_and_hash, &c, &tree), 0);
    assert_int_equal(c.calls, 7);
    assert_string_equal(tree->sha256, "556e0aa3aa29b7f82a3093799788cb868899d76926d94610cb5d7da4b5a4ba93");
    LG_AUTO(lg_tree) none = NULL;
    assert_int_equal(lg_sha256_tree(root, failing_hasher, NULL, &none), -EIO);
    assert_null(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nist_vectors),
        cmocka_unit_test(test_million_a_streamed),
        cmocka_unit_test(test_padding_boundaries),
        cmocka_unit_test(test_every_split_gives_the_same_digest),
        cmocka_unit_test(test_file_digest),
        cmocka_unit_test(test_tree_digest_matches_sha256sum),
        cmocka_unit_test(test_tree_changes_with_contents_and_names),
        cmocka_unit_test(test_tree_empty_and_errors),
        cmocka_unit_test(test_tree_custom_hasher),
    };
    return cmocka_run_group_tests(tests, suite_setup_tmpdir, suite_teardown_tmpdir);
}
