#include "xmlread.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <libxml/parser.h>

#include "base/cleanup.h"
#include "base/mem.h"

typedef struct doctype_seen {
    bool seen;
    int line;
} doctype_seen;

/* SAX internalSubset: called for every <!DOCTYPE, with or without an
 * internal subset, before its declarations are parsed. */
static void on_doctype(void *opaque, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
    xmlParserCtxtPtr ctxt = opaque;
    doctype_seen *seen = ctxt->_private;
    seen->seen = true;
    seen->line = ctxt->input ? ctxt->input->line : 0;
    xmlStopParser(ctxt);
}

int lg_xmlread_parse(const char *text, size_t len, const char *path, int options, lg_diags *diags,
                     xmlDocPtr *out)
{
    if (len > INT_MAX)
        return -EFBIG;
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return -ENOMEM;
    doctype_seen seen = { 0 };
    ctxt->_private = &seen;
    ctxt->sax->internalSubset = on_doctype;
    options = (options | XML_PARSE_NONET) & ~(XML_PARSE_NOENT | XML_PARSE_DTDLOAD | XML_PARSE_DTDATTR |
                                             XML_PARSE_DTDVALID);
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, text, (int)len, path, NULL, options);
    xmlFreeParserCtxt(ctxt);
    /* the callback is the guard; the subsets are checked too, in case a
     * libxml2 builds them some other way */
    if (!seen.seen && doc && (doc->intSubset || doc->extSubset)) {
        seen.seen = true;
        seen.line = 0;
    }
    if (seen.seen) {
        lg_diags_add(diags, path, seen.line, false, "DOCTYPE/entity declarations are not accepted");
        xmlFreeDoc(doc);
        return -EINVAL;
    }
    if (!doc)
        return -EINVAL;
    *out = doc;
    return 0;
}

bool lg_xml_is_element(xmlNodePtr node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && (!name || strcmp((const char *)node->name, name) == 0);
}

char *lg_xml_prop(xmlNodePtr node, const char *name)
{
    xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
    if (!v)
        return NULL;
    char *s = lg_strdup((const char *)v);
    xmlFree(v);
    return s;
}

void lg_xml_error_to_diags(void *opaque, xmlErrorPtr err)
{
    lg_xml_errors *ctx = opaque;
    LG_AUTOFREE char *message = lg_strdup(err->message ? err->message : "invalid XML");
    size_t n = strlen(message);
    while (n && message[n - 1] == '\n')
        message[--n] = '\0';
    lg_diags_add(ctx->diags, ctx->file, err->line, false, "%s", message);
}
