#include "xmlout.h"

#include "base/clean.h"
#include "base/cleanup.h"

void lg_xmlout_set(xmlNodePtr node, const char *name, const char *value)
{
    LG_AUTOFREE char *clean = lg_clean_xml(value ? value : "");
    xmlSetProp(node, (const xmlChar *)name, (const xmlChar *)clean);
}

xmlNodePtr lg_xmlout_text_child(xmlNodePtr parent, const char *name, const char *text)
{
    LG_AUTOFREE char *clean = lg_clean_xml(text ? text : "");
    return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)clean);
}
