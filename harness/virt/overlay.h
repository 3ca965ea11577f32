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
/* Whether gc may remove path, an overlay named in the metadata of a
 * leftover domain of run run_id: it must be "labgate-RUN_ID-NAME.qcow2" in a
 * directory that passes the state-directory check (only this user or root
 * could have put it there), and a regular file, not a link (its owner is
 * QEMU's user while the domain runs).  Domain metadata is not a state-directory
 * listing: without this, a domain defined by anyone with access to libvirt
 * could make root's gc delete any file.  0; -ENOENT when nothing is there;
 * -EPERM (or the check's error) with a message saying why not. */
int lg_overlay_check_leftover(const char *path, const char *run_id);
