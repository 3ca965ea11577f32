/* Choosing the accelerator.  Nested KVM on some hosts (these CI machines
 * among them) does not fail: the guest hangs right after the kernel
 * decompresses.  So "auto" proves KVM by booting a real guest kernel under it
 * and watching the console before trusting it; otherwise TCG. */
#pragma once
#include <stdbool.h>

#include "conn.h"
#include "model/matrix.h"

/* Decides for one host; the auto probe's result is cached per host boot in
 * the state directory. */
int lg_accel_resolve(lg_conn *conn, lg_accel wanted, const lg_matrix *m, bool *kvm);
