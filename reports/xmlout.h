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
