/* A guest's ready line: the console line it prints once it takes
 * connections, with its boot number, given in the profile as a pattern with
 * one %d ("labgate: ready %d").  Watching for it lets the harness connect
 * the moment the guest is ready instead of polling for it. */
#pragma once
#include <stdbool.h>

/* A pattern has exactly one %d and no other conversion ("%%" is a literal
 * percent sign). */
bool lg_ready_line_valid(const char *pattern);
/* Whether line (a console line, printk stamp already dropped) is the ready
 * line; the boot number it carries goes to *boot.  The pattern must match
 * from the start of the line; trailing blanks are ignored. */
bool lg_ready_line_match(const char *pattern, const char *line, int *boot);
