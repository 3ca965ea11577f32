#include "caps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "base/error.h"
#include "base/log.h"
#include "libvirt-priv.h"

LG_LOG_INIT("caps");

static bool named(xmlNodePtr node, const char *name)
{
    return node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, name) == 0;
}

static bool attr_is(xmlNodePtr node, const char *name, const char *value)
{
    xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
    bool is = v && strcmp((const char *)v, value) == 0;
    xmlFree(v);
    return is;
}

/* a <machine> under node naming machine (its text, or canonical=) */
static bool has_machine(xmlNodePtr node, const char *machine)
{
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (!named(c, "machine"))
            continue;
        xmlChar *text = xmlNodeGetContent(c);
        bool is = text && strcmp((const char *)text, machine) == 0;
        xmlFree(text);
        if (is || attr_is(c, "canonical", machine))
            return true;
    }
    return false;
}

/* what the <arch> element offers: 1 it has all, 0 not the domain type, -1
 * the domain type but not the machine */
static int arch_offers(xmlNodePtr arch, const char *machine, const char *domain_type)
{
    bool machine_found = !machine || has_machine(arch, machine);
    for (xmlNodePtr d = arch->children; d; d = d->next) {
        if (!named(d, "domain") || !attr_is(d, "type", domain_type))
            continue;
        /* a domain type may list machines of its own (kvm's differ) */
        if (machine_found || has_machine(d, machine))
            return 1;
        return -1;
    }
    return 0;
}

int lg_caps_guest_check(const char *caps_xml, const char *arch, const char *machine, const char *domain_type)
{
    xmlDocPtr doc = caps_xml ? xmlReadMemory(caps_xml, (int)strlen(caps_xml), "capabilities.xml", NULL,
                                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                             : NULL;
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || !named(root, "capabilities")) {
        xmlFreeDoc(doc);
        lg_error_set("the host's capabilities are no <capabilities> document");
        return -EINVAL;
    }
    bool arch_seen = false, type_seen = false;
    int rc = -ENOTSUP;
    for (xmlNodePtr g = root->children; g && rc < 0; g = g->next) {
        if (!named(g, "guest"))
            continue;
        bool hvm = false;
        for (xmlNodePtr c = g->children; c; c = c->next)
            if (named(c, "os_type")) {
                xmlChar *t = xmlNodeGetContent(c);
                hvm = t && strcmp((const char *)t, "hvm") == 0;
                xmlFree(t);
            }
        for (xmlNodePtr a = g->children; hvm && a && rc < 0; a = a->next) {
            if (!named(a, "arch") || !attr_is(a, "name", arch))
                continue;
            arch_seen = true;
            int offers = arch_offers(a, machine, domain_type);
            type_seen = type_seen || offers != 0;
            if (offers > 0)
                rc = 0;
        }
    }
    xmlFreeDoc(doc);
    if (rc == 0)
        return 0;
    if (!arch_seen)
        lg_error_set("it runs no %s guests (no QEMU for them)", arch);
    else if (!type_seen)
        lg_error_set("it runs no %s guests under domain type '%s'%s", arch, domain_type,
                     strcmp(domain_type, "kvm") == 0 ? " (no KVM there)" : "");
    else
        lg_error_set("its %s guests have no machine type '%s'", arch, machine);
    LG_DEBUG("%s", lg_error_msg());
    return -ENOTSUP;
}

int lg_conn_guest_check(lg_conn *conn, const char *arch, const char *machine, const char *domain_type)
{
    lg_error_clear();
    char *caps = virConnectGetCapabilities(lg_conn_virt(conn));
    if (!caps) {
        lg_virt_error("cannot read the host's capabilities");
        return -EIO;
    }
    int rc = lg_caps_guest_check(caps, arch, machine, domain_type);
    free(caps);
    return rc;
}
