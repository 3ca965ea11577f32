/* The state directory: run locks, overlay disks, the KVM probe cache.
 * labgate runs as root on shared hosts, so the directory is trusted only when
 * nobody else could have put or renamed anything in it: a planted symlink
 * there would make root write wherever it points. */
#pragma once

/* $LABGATE_STATE_DIR, else /var/lib/labgate for root, else
 * $XDG_STATE_HOME/labgate (or ~/.local/state/labgate).  A new string. */
char *lg_state_dir(void);

/* Creates dir (mode 0711: QEMU's user may search it, nobody may list it) if
 * it is missing, then checks it: a real directory (not a symlink), owned by
 * the effective user, not writable by group or others, and every directory
 * above it owned by root or that user and writable by nobody else (or
 * sticky, like /tmp).  0, or -ENOTDIR / -EPERM / -errno with a message
 * naming the path and the problem. */
int lg_state_dir_check(const char *dir);

/* Creates path, which must not exist (no symlink followed), with mode;
 * returns the open fd (O_RDWR, close-on-exec) or -errno with a message. */
int lg_state_file_create(const char *path, unsigned mode);
