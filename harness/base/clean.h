/* The two cleaners for text that came from a guest (console lines, titles
 * made from command output, fetched file names, qemu-ga replies) or from a
 * file labgate did not write itself: one before the text enters XML, one
 * before it reaches a terminal.  Every writer uses these, so there is one
 * definition of "clean" to review.  Both return a new string (never NULL;
 * NULL in gives NULL out) and never fail. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct lg_buf;

/* Well-formed UTF-8 with only characters XML 1.0 allows: every byte that does
 * not start a valid sequence (stray continuation bytes, truncated or overlong
 * sequences, surrogates, code points above U+10FFFF, 0xF8-0xFF) becomes one
 * U+FFFD, and so does each forbidden character: NUL and the C0 controls other
 * than TAB, LF and CR, U+FFFE and U+FFFF.  Everything else is kept byte for
 * byte (markup is the XML library's job, not this one's). */
char *lg_clean_xml(const char *s);
/* The same for len bytes that may hold NULs (each becomes U+FFFD). */
char *lg_clean_xml_n(const char *s, size_t len);

/* One line that cannot move the cursor, change colours or set a window
 * title: C0 controls, DEL, and C1 controls are written out visibly --
 * "\r", "\n", "\t", "\x1b", "\x7f" (ESC and the rest of C0 as \xNN),
 * C1 as "\u009b" -- and a byte that does not start a valid UTF-8 sequence
 * as "\xNN" (so a raw 0x9b, the 8-bit CSI, cannot reach the terminal
 * either).  Valid printable UTF-8 is kept as it is. */
char *lg_clean_term(const char *s);
char *lg_clean_term_n(const char *s, size_t len);
/* Appends lg_clean_term(s) to out ("" for NULL): for lines built in an lg_buf. */
void lg_clean_term_append(struct lg_buf *out, const char *s);

/* Length of the valid UTF-8 sequence at s (at most len bytes), 1 to 4, with
 * its code point in *cp; 0 when the bytes there are not one (see
 * lg_clean_xml), *cp untouched then. */
size_t lg_utf8_decode(const char *s, size_t len, uint32_t *cp);
