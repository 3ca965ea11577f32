#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/clean.h"
#include "base/error.h"
#include "base/util.h"
#include "cli.h"
#include "model/verdict.h"
#include "watch/scanner.h"

/* Field logs can be large; the scanner needs memory only per line. */
#define CHUNK (64 * 1024)

int lg_cmd_triage(int argc, char **argv)
{
    static const char usage[] =
        "usage: labgate triage FILE\n"
        "Scans a saved console log (serial output of a Linux or Windows guest) for the\n"
        "first kernel crash report and prints its canonical title, the same one a run\n"
        "would give.  Exit 1 with the title when there is a crash, 0 with no output\n"
        "when there is none, 2 when the file cannot be read.  FILE - reads stdin.\n";
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc != 2) {
        fputs(usage, stderr);
        return LG_EXIT_BAD_INPUT;
    }
    const char *path = argv[1];
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "labgate triage: cannot open %s: %s\n", path, strerror(errno));
        return LG_EXIT_BAD_INPUT;
    }
    LG_AUTO(lg_scanner) sc = lg_scanner_new();
    static char chunk[CHUNK];
    size_t n;
    while (sc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        lg_scanner_feed(sc, chunk, n);
    bool read_error = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!sc || read_error) {
        fprintf(stderr, "labgate triage: cannot read %s\n", path);
        return LG_EXIT_BAD_INPUT;
    }
    lg_scanner_finish(sc);
    if (!lg_scanner_hit(sc))
        return 0;
    /* the title quotes the log: a line of it must not drive the terminal */
    LG_AUTOFREE char *title = lg_clean_term(lg_scanner_title(sc));
    printf("%s\n", title ? title : "");
    return 1;
}
