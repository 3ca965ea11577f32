/* Functions return 0 or a negative errno-style code.  The wrapper module that
 * translates a library's failure records the human message here (per thread),
 * keeping the library's own words, so the caller that decides can print it. */
#pragma once

void lg_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The last message set on this thread, or a generic one. */
const char *lg_error_msg(void);
void lg_error_clear(void);

/* Keeps the message of the failure being reported through a cleanup that
 * may itself fail (a destroy after a failed start): put LG_ERROR_PRESERVE;
 * at the top of a destructor, and whatever it sets is dropped when it
 * returns, so a stale or secondary message never replaces the first. */
typedef struct lg_error_saved { char msg[1024]; } lg_error_saved;
void lg_error_save(lg_error_saved *saved);
void lg_error_restore(lg_error_saved *saved);
#define LG_ERROR_PRESERVE \
    __attribute__((cleanup(lg_error_restore))) lg_error_saved lg_error_saved_; lg_error_save(&lg_error_saved_)
