/* The one way labgate parses an XML file it reads (matrices, profiles,
 * run.xml): no network, no entity substitution, no DTD loading, and a
 * document with a DOCTYPE refused outright -- labgate's formats need none,
 * and a DTD is where entity expansion attacks ("billion laughs") and
 * external entities live. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "diag.h"

/* Parses len bytes of text read from path, with XML_PARSE_NONET and the
 * extra libxml2 options given (never NOENT or DTDLOAD: they are removed).
 * 0 with the document in *out; -EINVAL when it is not well-formed
 * (libxml2's errors go to the structured error handler the caller set) or
 * when it has a DOCTYPE, for which "PATH:LINE: DOCTYPE/entity declarations
 * are not accepted" is added to diags; the parse stops at the DOCTYPE, before
 * any declaration in it is read. */
/* libxml2's structured errors as FILE:LINE diagnostics: pass a
 * lg_xml_errors and lg_xml_error_to_diags to xmlSetStructuredErrorFunc. */
typedef struct lg_xml_errors {
    lg_diags *diags;
    const char *file;
} lg_xml_errors;
void lg_xml_error_to_diags(void *opaque, xmlErrorPtr err);

/* An element node, named name (any element when name is NULL). */
bool lg_xml_is_element(xmlNodePtr node, const char *name);
/* The attribute as a string of ours (free()), or NULL when absent. */
char *lg_xml_prop(xmlNodePtr node, const char *name);

int lg_xmlread_parse(const char *text, size_t len, const char *path, int options, lg_diags *diags,
                     xmlDocPtr *out);
