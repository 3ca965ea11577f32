/* The <inputs> of run.xml: SHA-256 digests of every file a run used, so a
 * release can be tied to the exact builds, content and images that were
 * tested (`labgate verify-release`).
 *
 *   <inputs>
 *     <harness version="0.1.0" host="vm"/>
 *     <matrix path="/abs/matrix.xml" sha256="..."/>
 *     <build id="agent" dir="/abs/dir" sha256="TREE" files="3" size="5120">
 *       <file path="bin/sampleagentd" sha256="..." size="4096"/> ...
 *     </build>
 *     <content id="good" dir="/abs/dir" sha256="TREE" files="1" size="96"> <file .../> </content>
 *     <image guest="linux-x86_64" kind="disk|kernel|initrd" path="/abs/file" sha256="..." size="..."/>
 *   </inputs>
 *
 * TREE is the tree digest of base/sha256.h.  Only the builds, content sets
 * and guests that some job of the plan uses are listed, in matrix order.  A
 * file or directory that cannot be read gets error="..." instead of sha256
 * (the report is still written: it is the record of what happened). */
#pragma once
#include <stdint.h>

#include <libxml/tree.h>

#include "model/plan.h"

/* Appends <inputs> to the run element.  Each distinct file (device, inode,
 * size, times) is hashed once per process, i.e. once per run, however many
 * builds, guests or report writes name it.  0, or -ENOMEM when libxml2
 * cannot create the <inputs> element. */
int lg_report_add_inputs(xmlNodePtr run, const lg_plan *plan);
/* Bytes read for digests so far in this process (what the cache saves is
 * visible in it; for tests). */
uint64_t lg_report_inputs_bytes_hashed(void);
