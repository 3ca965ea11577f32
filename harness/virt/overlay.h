/* Per-job copy-on-write overlays on a guest's base image. */
#pragma once

/* Creates path, which must not exist yet, as a qcow2 overlay backed by base
 * (absolute), mode 0600, after checking its directory as a state directory
 * (base/statedir.h; overlays live in lg_state_dir()).  Under qemu:///system
 * libvirt's DAC driver (dynamic_ownership, the default) chowns it to QEMU's
 * user while the domain runs; the directory is 0711 so that user can reach
 * it. */
int lg_overlay_create(const char *base, const char *path);
/* Removes it; missing is fine. */
int lg_overlay_remove(const char *path);
