/* XPath on documents the tests write (run.xml, report.html). */
#pragma once
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "base/buf.h"

/* The string value of expr in doc ("" when nothing matches). */
static inline char *lg_test_xpath_string(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    char *wrapped = lg_strdup_printf("string(%s)", expr);
    xmlXPathObjectPtr obj = xmlXPathEvalExpression((const xmlChar *)wrapped, ctx);
    char *s = strdup(obj && obj->stringval ? (const char *)obj->stringval : "");
    free(wrapped);
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);
    return s;
}
