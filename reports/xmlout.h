/* The only way the reports put text into XML (run.xml, junit.xml and the
 * <inputs> they share): every attribute value and text node passes through
 * lg_clean_xml (base/clean.h) first, so a guest's bytes cannot make a
 * document that does not parse. */
#pragma once
#include <libxml/tree.h>

/* value NULL is written as "". */
void lg_xmlout_set(xmlNodePtr node, const char *name, const char *value);
/* A new <name> child of parent holding text (escaped by libxml2). */
xmlNodePtr lg_xmlout_text_child(xmlNodePtr parent, const char *name, const char *text);

/* Saves doc atomically and durably (base/util.h): a reader never sees half
 * a report, and a crash leaves the old file or the new one.  0 or -errno
 * with the message set. */
int lg_report_save_xml(xmlDocPtr doc, const char *path);

#include "run/job.h"
/* A job's <job> element of run.xml, appended to parent: the same element
 * run.xml and the job's journal entry (reports/journal.h) hold. */
xmlNodePtr lg_report_job_element(xmlNodePtr parent, const lg_job *job, const lg_job_result *res);
