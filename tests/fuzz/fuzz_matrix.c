/* libFuzzer target: the matrix and guest profile parsers (model/matrix.c) on
 * any bytes.  The input is written to a file in a directory whose profiles/,
 * builds/ and content/ are the unit tests' fixtures, so matrices that name
 * them get past the references into the checks behind them. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/matrix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/lg-fuzz-matrix-XXXXXX";
static char input[sizeof(dir) + 16];
static const char *const linked[] = { "profiles", "builds", "content" };

static void remove_dir(void)
{
    char path[sizeof(dir) + 16];
    unlink(input);
    for (size_t i = 0; i < sizeof(linked) / sizeof(*linked); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, linked[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void make_dir(void)
{
    if (!mkdtemp(dir))
        abort();
    for (size_t i = 0; i < sizeof(linked) / sizeof(*linked); i++) {
        char path[sizeof(dir) + 16], target[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, linked[i]);
        snprintf(target, sizeof(target), "%s/matrix/%s", LG_FIXTURES_DIR, linked[i]);
        if (symlink(target, path) < 0)
            abort();
    }
    snprintf(input, sizeof(input), "%s/input.xml", dir);
    atexit(remove_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!*input)
        make_dir();
    int fd = open(input, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);

    lg_diags diags = { 0 };
    lg_matrix *m = NULL;
    if (lg_matrix_load(input, &m, &diags) == 0 && !m)
        abort();
    lg_matrix_free(m);
    lg_diags_clear(&diags);

    lg_profile *p = NULL;
    if (lg_profile_load(input, &p, &diags) == 0 && !p)
        abort();
    lg_profile_free(p);
    lg_diags_clear(&diags);
    return 0;
}
