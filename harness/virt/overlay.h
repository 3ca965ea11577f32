/* Per-job copy-on-write overlays on a guest's base image. */
#pragma once

/* Creates path as a qcow2 overlay backed by base (absolute). */
int lg_overlay_create(const char *base, const char *path);
/* Removes it; missing is fine. */
int lg_overlay_remove(const char *path);
/* The directory overlays live in: $LABGATE_STATE_DIR or /var/tmp/labgate.
 * It must be reachable by the unprivileged user QEMU runs as. */
const char *lg_overlay_dir(void);
