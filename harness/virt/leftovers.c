#include "leftovers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "base/error.h"
#include "base/mem.h"
#include "libvirt-priv.h"
#include "domain.h"
#include "domxml.h"

static char *prop(xmlNodePtr node, const char *name)
{
    xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
    char *s = lg_strdup((const char *)v);
    xmlFree(v);
    return s;
}

void lg_labgate_domains_free(lg_labgate_domain *doms, size_t n)
{
    for (size_t i = 0; doms && i < n; i++) {
        free(doms[i].name);
        free(doms[i].run_id);
        free(doms[i].job_id);
        free(doms[i].overlay);
        free(doms[i].lock);
    }
    free(doms);
}

int lg_labgate_domains(lg_conn *conn, lg_labgate_domain **out, size_t *n)
{
    virDomainPtr *all = NULL;
    int count = virConnectListAllDomains(lg_conn_virt(conn), &all, 0);
    if (count < 0) {
        lg_virt_error("cannot list domains");
        return -EIO;
    }
    lg_labgate_domain *list = lg_calloc((size_t)count + 1, sizeof(*list));
    size_t found = 0;
    for (int i = 0; i < count; i++) {
        /* no metadata of ours: not labgate's, whatever its name says */
        char *meta = virDomainGetMetadata(all[i], VIR_DOMAIN_METADATA_ELEMENT, LG_METADATA_NS, 0);
        xmlDocPtr doc = meta ? xmlReadMemory(meta, (int)strlen(meta), "metadata", NULL, XML_PARSE_NONET) : NULL;
        xmlNodePtr job = doc ? xmlDocGetRootElement(doc) : NULL;
        if (job) {
            lg_labgate_domain *d = &list[found++];
            d->name = lg_strdup(virDomainGetName(all[i]));
            d->run_id = prop(job, "run");
            d->job_id = prop(job, "job");
            d->overlay = prop(job, "overlay");
            d->lock = prop(job, "lock");
            d->active = virDomainIsActive(all[i]) == 1;
        }
        xmlFreeDoc(doc);
        free(meta);
        virDomainFree(all[i]);
    }
    free(all);
    *out = list;
    *n = found;
    return 0;
}

int lg_labgate_domain_remove(lg_conn *conn, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(lg_conn_virt(conn), name);
    if (!dom) {
        lg_virt_error("cannot find the domain");
        return -ENOENT;
    }
    int rc = lg_virt_domain_remove(dom);
    virDomainFree(dom);
    return rc;
}
