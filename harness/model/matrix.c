#include "matrix.h"

#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/error.h"
#include "base/tree.h"
#include "base/util.h"
#include "bound.h"
#include "xmlread.h"
#include "readyline.h"

extern const char lg_schema_rng[];
extern const unsigned long lg_schema_rng_len;

/* libxml2's RelaxNG validator reports some errors without the node they are
 * about, hence without a line: a missing attribute inside an <interleave>
 * ("Element host failed to validate attributes") or its follow-up ("Extra
 * element policy in interleave").  Validity errors are therefore collected
 * first and placed afterwards (see place_schema_errors). */
typedef struct schema_error {
    char *message;
    char *element; /* name of the node libxml2 named, or NULL */
    int line;      /* 0 until placed */
} schema_error;

typedef struct xml_errors {
    lg_diags *diags;
    const char *file;
    schema_error *schema; /* validity errors, in the order reported */
    size_t n_schema;
} xml_errors;

static void on_xml_error(void *opaque, xmlErrorPtr err)
{
    xml_errors *ctx = opaque;
    const char *message = err->message ? err->message : "invalid XML";
    if (err->domain != XML_FROM_RELAXNGV) {
        lg_diags_add(ctx->diags, ctx->file, err->line, false, "%s", message);
        return;
    }
    ctx->schema = lg_realloc_n(ctx->schema, ctx->n_schema + 1, sizeof(*ctx->schema));
    xmlNodePtr node = err->node;
    ctx->schema[ctx->n_schema++] = (schema_error){
        .message = lg_strdup(message),
        .element = node && node->name ? lg_strdup((const char *)node->name) : NULL,
        .line = node ? (int)xmlGetLineNo(node) : err->line,
    };
}

/* The element name a libxml2 RelaxNG message is about ("Element host ...",
 * "Extra element policy ...", "... for element policy"), or NULL. */
static char *element_named_in(const char *message)
{
    const char *p = strstr(message, "lement ");
    if (!p)
        return NULL;
    p += strlen("lement ");
    size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-");
    return n ? lg_strndup(p, n) : NULL;
}

static int first_element_line(xmlNodePtr node, const char *name)
{
    for (; node; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)node->name, name) == 0)
            return (int)xmlGetLineNo(node);
        int line = first_element_line(node->children, name);
        if (line > 0)
            return line;
    }
    return 0;
}

/* Gives an error without a line the line of another error about an element
 * of the same name (libxml2 usually follows up with one that has the node),
 * else the line of the first element of that name. */
static void place_schema_errors(xml_errors *ctx, xmlDocPtr doc)
{
    for (size_t i = 0; i < ctx->n_schema; i++) {
        schema_error *e = &ctx->schema[i];
        if (e->line > 0)
            continue;
        LG_AUTOFREE char *name = element_named_in(e->message);
        if (!name)
            continue;
        for (size_t j = 0; j < ctx->n_schema && e->line <= 0; j++)
            if (ctx->schema[j].line > 0 && ctx->schema[j].element && strcmp(ctx->schema[j].element, name) == 0)
                e->line = ctx->schema[j].line;
        if (e->line <= 0)
            e->line = first_element_line(xmlDocGetRootElement(doc), name);
    }
    for (size_t i = 0; i < ctx->n_schema; i++) {
        lg_diags_add(ctx->diags, ctx->file, ctx->schema[i].line > 0 ? ctx->schema[i].line : 0, false, "%s",
                     ctx->schema[i].message);
        free(ctx->schema[i].message);
        free(ctx->schema[i].element);
    }
    free(ctx->schema);
    ctx->schema = NULL;
    ctx->n_schema = 0;
}

/* Matrices and profiles are a few kilobytes; anything this large is a mistake. */
#define MAX_INPUT_BYTES (16u << 20)

/* libxml2 numbers an element by the line where its start tag ENDS; a
 * diagnostic should point where the element starts (<build id=...), which
 * for a start tag spread over several lines is earlier.  The start is the
 * nearest "<name" before the end of that line: '<' cannot occur in attribute
 * values, so a closer one can only be on the same line, which changes nothing.
 * line_ends[i] is the offset of the newline ending line i + 1. */
static void move_to_start_lines(xmlNodePtr node, const char *text, const size_t *line_ends, size_t n_lines)
{
    for (; node; node = node->next) {
        if (node->type != XML_ELEMENT_NODE)
            continue;
        move_to_start_lines(node->children, text, line_ends, n_lines);
        long line = xmlGetLineNo(node);
        if (line <= 1 || line >= 65535 || (size_t)line > n_lines)
            continue; /* nothing to move, or libxml2 keeps big line numbers elsewhere */
        size_t name_len = strlen((const char *)node->name);
        long start_line = line;
        for (size_t i = line_ends[line - 1]; i-- > 0;) {
            if (text[i] == '\n') {
                start_line--;
                continue;
            }
            if (text[i] == '<' && strncmp(text + i + 1, (const char *)node->name, name_len) == 0 &&
                strchr(" \t\r\n/>", text[i + 1 + name_len])) {
                node->line = (unsigned short)start_line;
                break;
            }
        }
    }
}

static void set_start_lines(xmlDocPtr doc, const char *text, size_t len)
{
    size_t n_lines = 1;
    for (size_t i = 0; i < len; i++)
        n_lines += text[i] == '\n';
    LG_AUTOFREE size_t *line_ends = lg_calloc(n_lines, sizeof(*line_ends));
    size_t line = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            line_ends[line++] = i;
    line_ends[line] = len; /* the last line may have no newline */
    move_to_start_lines(xmlDocGetRootElement(doc), text, line_ends, n_lines);
}

/* Parses path and validates it against the embedded schema; the root element
 * must be `root`.  Returns the document or NULL with diagnostics added. */
static void explain_schema_errors(xmlNodePtr node, const char *path, lg_diags *diags);

static xmlDocPtr load_validated(const char *path, const char *root, lg_diags *diags)
{
    xml_errors ctx = { .diags = diags, .file = path };
    size_t before = diags->n;
    if (access(path, R_OK) < 0) {
        lg_diags_add(diags, path, 0, false, "cannot read file: %s", strerror(errno));
        return NULL;
    }
    LG_AUTOFREE char *text = NULL;
    size_t text_len = 0;
    if (lg_read_file(path, MAX_INPUT_BYTES, &text, &text_len) < 0) {
        lg_diags_add(diags, path, 0, false, "cannot read file: %s", lg_error_msg());
        return NULL;
    }
    xmlSetStructuredErrorFunc(&ctx, on_xml_error);
    xmlDocPtr doc = NULL;
    int parsed = lg_xmlread_parse(text, text_len, path, 0, diags, &doc);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (parsed < 0) {
        if (diags->n == before)
            lg_diags_add(diags, path, 0, false, "not a well-formed XML document");
        return NULL;
    }
    set_start_lines(doc, text, text_len);
    xmlNodePtr top = xmlDocGetRootElement(doc);
    if (!top || strcmp((const char *)top->name, root) != 0) {
        lg_diags_add(diags, path, top ? (int)xmlGetLineNo(top) : 0, false,
                     "expected a <%s> document, found <%s>", root, top ? (const char *)top->name : "nothing");
        xmlFreeDoc(doc);
        return NULL;
    }

    xmlRelaxNGParserCtxtPtr pctx = xmlRelaxNGNewMemParserCtxt(lg_schema_rng, (int)lg_schema_rng_len);
    xmlRelaxNGPtr schema = pctx ? xmlRelaxNGParse(pctx) : NULL;
    xmlRelaxNGFreeParserCtxt(pctx);
    if (!schema) {
        lg_diags_add(diags, path, 0, false, "internal error: the embedded schema does not parse");
        xmlFreeDoc(doc);
        return NULL;
    }
    xmlRelaxNGValidCtxtPtr vctx = xmlRelaxNGNewValidCtxt(schema);
    xmlRelaxNGSetValidStructuredErrors(vctx, on_xml_error, &ctx);
    int rc = xmlRelaxNGValidateDoc(vctx, doc);
    xmlRelaxNGFreeValidCtxt(vctx);
    xmlRelaxNGFree(schema);
    place_schema_errors(&ctx, doc);
    if (rc != 0) {
        if (diags->n == before)
            lg_diags_add(diags, path, 0, false, "does not match the labgate schema");
        explain_schema_errors(top, path, diags);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

static char *attr(xmlNodePtr node, const char *name)
{
    return lg_xml_prop(node, name);
}

static int attr_int(xmlNodePtr node, const char *name, int def)
{
    LG_AUTOFREE char *v = attr(node, name);
    /* the schema has checked it is an integer; out of int's range keeps def */
    int n = def;
    if (v)
        lg_parse_int(v, &n);
    return n;
}

static char *text(xmlNodePtr node)
{
    xmlChar *v = xmlNodeGetContent(node);
    char *s = lg_strdup(v ? (const char *)v : "");
    xmlFree(v);
    return s;
}

static int text_int(xmlNodePtr node)
{
    LG_AUTOFREE char *s = text(node);
    int n = 0;
    if (s)
        lg_parse_int(s, &n);
    return n;
}

static size_t count_children(xmlNodePtr parent, const char *name)
{
    size_t n = 0;
    for (xmlNodePtr c = parent->children; c; c = c->next)
        n += lg_xml_is_element(c, name);
    return n;
}

static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr c = parent->children; c; c = c->next)
        if (lg_xml_is_element(c, name))
            return c;
    return NULL;
}

static int line_of(xmlNodePtr n)
{
    return (int)xmlGetLineNo(n);
}

/* A path attribute resolved against the directory of the file holding it. */
static char *path_attr(xmlNodePtr node, const char *name, const char *base_dir)
{
    LG_AUTOFREE char *v = attr(node, name);
    if (!v)
        return NULL;
    char *joined = lg_path_join(base_dir, v);
    char real[PATH_MAX];
    /* Keep the joined path when it does not exist yet, so the error names it. */
    if (joined && realpath(joined, real)) {
        free(joined);
        return lg_strdup(real);
    }
    return joined;
}

/* The structures hold absolute paths (diagnostics keep the path as given). */
static char *abs_path(const char *path)
{
    char real[PATH_MAX];
    return lg_strdup(realpath(path, real) ? real : path);
}

static char *abs_dirname(const char *path)
{
    char real[PATH_MAX];
    LG_AUTOFREE char *dir = lg_path_dirname(path);
    return lg_strdup(realpath(dir, real) ? real : dir);
}

/* ------------------------------------------------------------------ profile */

void lg_profile_free(lg_profile *p)
{
    if (!p)
        return;
    free(p->id); free(p->path); free(p->machine);
    free(p->disk); free(p->kernel); free(p->initrd); free(p->cmdline);
    free(p->ssh_user); free(p->ssh_key); free(p->ssh_host_key); free(p->boot_count_command); free(p->ready_line);
    free(p->leak_scan_command);
    free(p->cpu_model);
    free(p->watchdog_model); free(p->watchdog_action); free(p->net_probe_reason);
    free(p);
}

static void warn_missing_image(lg_diags *diags, const char *file, int line, const char *what, const char *path,
                               lg_os os)
{
    if (path && !lg_is_file(path))
        lg_diags_add(diags, file, line, true, "%s %s does not exist yet (%s); jobs on this guest will end in INFRA_ERROR",
                     what, path, lg_os_info_of(os)->image_help);
}

const char *const LG_HV_NAMES[LG_HV_COUNT] = {
    "relaxed", "vapic", "spinlocks", "runtime", "reset", "frequencies", "vpindex", "synic", "stimer", "tlbflush", "ipi",
};

/* <network probe="on|none" reason="..." port="N"/>: the probes are on
 * unless turned off, and off only with a reason (it goes into run.xml). */
static void parse_network(lg_profile *p, xmlNodePtr n, const char *path, lg_diags *diags)
{
    p->net_probe = true;
    p->net_probe_port = p->ssh_port;
    if (!n)
        return;
    LG_AUTOFREE char *probe = attr(n, "probe");
    p->net_probe_reason = attr(n, "reason");
    if (probe && strcmp(probe, "none") == 0) {
        p->net_probe = false;
        if (!p->net_probe_reason || !*p->net_probe_reason)
            lg_diags_add(diags, path, line_of(n), false,
                         "<network probe=\"none\"> needs a reason=\"...\" (it is recorded in run.xml)");
    }
    LG_AUTOFREE char *port = attr(n, "port");
    if (port) {
        p->net_probe_port = attr_int(n, "port", p->ssh_port);
        if (p->transport == LG_TRANSPORT_SSH && p->net_probe_port != p->ssh_port)
            lg_diags_add(diags, path, line_of(n), false,
                         "<network port=\"%d\">: over ssh the host probe reaches ssh's own port (%d); "
                         "name a port only with transport qemu-ga",
                         p->net_probe_port, p->ssh_port);
    }
}

#define LEAK_SCAN_DEFAULT_TIMEOUT_S 120

/* <leak-scan command="..." timeout-s="N"/> */
static void parse_leak_scan(lg_profile *p, xmlNodePtr n, const char *path, lg_diags *diags)
{
    if (!n)
        return;
    p->leak_scan_command = attr(n, "command");
    if (!p->leak_scan_command || !*p->leak_scan_command)
        lg_diags_add(diags, path, line_of(n), false, "<leak-scan> needs a command=\"...\" run in the guest");
    p->leak_scan_timeout_s = attr_int(n, "timeout-s", LEAK_SCAN_DEFAULT_TIMEOUT_S);
    if (p->leak_scan_timeout_s <= 0)
        lg_diags_add(diags, path, line_of(n), false, "<leak-scan timeout-s=\"%d\">: must be a positive number of seconds",
                     p->leak_scan_timeout_s);
}

int lg_profile_load(const char *path, lg_profile **out, lg_diags *diags)
{
    /* diags may already hold the problems of other files (the matrix loads
     * every profile into one list): only this file's errors count here */
    size_t errors_before = lg_diags_errors(diags);
    xmlDocPtr doc = load_validated(path, "profile", diags);
    if (!doc)
        return -EINVAL;
    LG_AUTOFREE char *dir = abs_dirname(path);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    lg_profile *p = LG_NEW0(lg_profile);
    p->id = attr(root, "id");
    p->path = abs_path(path);
    /* the schema allows only known names: a failed parse is a schema gap */
    xmlNodePtr n = child(root, "os");
    LG_AUTOFREE char *os = text(n);
    if (lg_os_parse(os, &p->os) < 0)
        lg_diags_add(diags, path, line_of(n), false, "unknown <os> '%s'", os ? os : "");
    n = child(root, "arch");
    LG_AUTOFREE char *arch = text(n);
    if (lg_arch_parse(arch, &p->arch) < 0)
        lg_diags_add(diags, path, line_of(n), false, "unknown <arch> '%s'", arch ? arch : "");
    const lg_arch_info *arch_info = lg_arch_info_of(p->arch);
    p->machine = (n = child(root, "machine")) ? text(n) : lg_strdup(arch_info->default_machine);
    p->memory_mib = (n = child(root, "memory-mib")) ? text_int(n) : 512;
    p->vcpus = (n = child(root, "vcpus")) ? text_int(n) : 1;

    xmlNodePtr boot = child(root, "boot");
    p->disk = path_attr(boot, "disk", dir);
    p->kernel = path_attr(boot, "kernel", dir);
    p->initrd = path_attr(boot, "initrd", dir);
    p->cmdline = attr(boot, "cmdline");
    if (!p->cmdline)
        p->cmdline = lg_strdup("");
    if (p->initrd && !p->kernel)
        lg_diags_add(diags, path, line_of(boot), false, "<boot> has an initrd but no kernel");
    warn_missing_image(diags, path, line_of(boot), "disk image", p->disk, p->os);
    warn_missing_image(diags, path, line_of(boot), "kernel", p->kernel, p->os);
    warn_missing_image(diags, path, line_of(boot), "initrd", p->initrd, p->os);

    xmlNodePtr tr = child(root, "transport");
    LG_AUTOFREE char *transport = attr(tr, "type");
    if (lg_transport_kind_parse(transport, &p->transport) < 0)
        lg_diags_add(diags, path, line_of(tr), false, "unknown transport '%s'", transport ? transport : "");
    p->ssh_user = attr(tr, "user");
    if (!p->ssh_user)
        p->ssh_user = lg_strdup("root");
    p->ssh_key = path_attr(tr, "key", dir);
    p->ssh_port = attr_int(tr, "port", 22);
    if (p->ssh_key)
        warn_missing_image(diags, path, line_of(tr), "ssh key", p->ssh_key, p->os);
    p->ssh_host_key = path_attr(tr, "host-key", dir);
    if (p->ssh_host_key)
        warn_missing_image(diags, path, line_of(tr), "ssh host key", p->ssh_host_key, p->os);

    p->boot_count_command = attr(child(root, "readiness"), "boot-count-command");
    p->ready_line = attr(child(root, "readiness"), "ready-line");
    if (p->ready_line && !lg_ready_line_valid(p->ready_line))
        lg_diags_add(diags, path, line_of(child(root, "readiness")), false,
                     "ready-line \"%s\" needs exactly one %%d (the boot number) and no other %% conversion",
                     p->ready_line);
    bool have_panic = false;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (!lg_xml_is_element(c, "panic"))
            continue;
        LG_AUTOFREE char *model = attr(c, "model");
        if (strcmp(model, "hyperv") == 0) {
            p->panic_hyperv = true;
            if (!arch_info->x86)
                lg_diags_add(diags, path, line_of(c), false, "<panic model=\"hyperv\"> is x86 only");
            continue;
        }
        if (have_panic) {
            lg_diags_add(diags, path, line_of(c), false,
                         "a second <panic> device: one of isa, pvpanic-pci or none (plus hyperv on x86)");
            continue;
        }
        if (lg_panic_model_parse(model, &p->panic_model) < 0) {
            lg_diags_add(diags, path, line_of(c), false, "unknown <panic model> '%s'", model);
            continue;
        }
        have_panic = true;
        if (!arch_info->x86 && lg_panic_model_info_of(p->panic_model)->x86_only)
            lg_diags_add(diags, path, line_of(c), false,
                         "<panic model=\"%s\"> is x86 only: an %s guest needs %s (or none)", model, arch_info->name,
                         lg_panic_model_name(arch_info->default_panic));
    }
    if (!have_panic)
        p->panic_model = arch_info->default_panic;
    if ((n = child(root, "cpu"))) {
        p->cpu_model = attr(n, "model");
        p->cpu_maximum = !p->cpu_model;
    }
    if ((n = child(root, "firmware"))) {
        LG_AUTOFREE char *type = attr(n, "type");
        LG_AUTOFREE char *sb = attr(n, "secure-boot");
        p->efi = strcmp(type, "efi") == 0;
        p->secure_boot = sb && strcmp(sb, "yes") == 0;
        if (p->secure_boot && !p->efi)
            lg_diags_add(diags, path, line_of(n), false, "secure boot needs <firmware type=\"efi\">");
        if (p->secure_boot && arch_info->x86 && strcmp(p->machine, "q35") != 0 && strncmp(p->machine, "pc-q35", 6) != 0)
            lg_diags_add(diags, path, line_of(n), false,
                         "secure boot on x86_64 needs machine q35 (OVMF's secure build has SMM, which pc lacks)");
        if (p->efi && p->kernel)
            lg_diags_add(diags, path, line_of(n), false,
                         "UEFI firmware boots the disk: drop the kernel, initrd and cmdline from <boot>");
    }
    p->tpm = child(root, "tpm") != NULL;
    if ((n = child(root, "hyperv"))) {
        if (!arch_info->x86)
            lg_diags_add(diags, path, line_of(n), false, "<hyperv> is x86_64 only");
        LG_AUTOFREE char *features = attr(n, "features");
        for (char *save = NULL, *tok = strtok_r(features, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
            for (int i = 0; i < LG_HV_COUNT; i++)
                if (strcmp(tok, LG_HV_NAMES[i]) == 0)
                    p->hyperv |= 1u << i;
    }
    if ((n = child(root, "watchdog"))) {
        p->watchdog_model = attr(n, "model");
        /* the event is the signal; the guest is left as it is for evidence */
        p->watchdog_action = attr(n, "action");
        if (!p->watchdog_action)
            p->watchdog_action = lg_strdup("none");
    }
    parse_network(p, child(root, "network"), path, diags);
    parse_leak_scan(p, child(root, "leak-scan"), path, diags);
    xmlFreeDoc(doc);

    if (lg_diags_errors(diags) > errors_before) {
        lg_profile_free(p);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

/* ------------------------------------------------------------------- matrix */

bool lg_step_puts_candidate(lg_step_kind kind)
{
    return kind == LG_STEP_INSTALL || kind == LG_STEP_APPLY_CONTENT || kind == LG_STEP_CONTENT_RELOAD;
}

bool lg_scenario_puts_candidate(const lg_scenario *scenario)
{
    for (size_t i = 0; i < scenario->n_steps; i++)
        if (lg_step_puts_candidate(scenario->steps[i].kind))
            return true;
    return false;
}

const char *lg_step_kind_name(lg_step_kind kind)
{
    switch (kind) {
    case LG_STEP_WAIT_READY: return "wait-ready";
    case LG_STEP_INSTALL: return "install";
    case LG_STEP_APPLY_CONTENT: return "apply-content";
    case LG_STEP_REBOOT: return "reboot";
    case LG_STEP_EXEC: return "exec";
    case LG_STEP_FETCH: return "fetch";
    case LG_STEP_CONTENT_RELOAD: return "content-reload";
    case LG_STEP_POWER_CYCLE: return "power-cycle";
    case LG_STEP_COLD_BOOT: return "cold-boot";
    case LG_STEP_STRESS: return "stress";
    }
    return "?";
}

void lg_step_copy(lg_step *dst, const lg_step *src)
{
    *dst = *src;
    dst->command = src->command ? lg_strdup(src->command) : NULL;
}

int lg_step_boots(const lg_step *step)
{
    /* no default: a new step kind says here whether it boots the guest */
    switch (step->kind) {
    case LG_STEP_REBOOT: return step->count;
    case LG_STEP_POWER_CYCLE:
    case LG_STEP_COLD_BOOT: return 1;
    /* a power cut mid-update: the guest boots again */
    case LG_STEP_APPLY_CONTENT: return step->cut_power_within_ms > 0 ? 1 : 0;
    case LG_STEP_WAIT_READY:
    case LG_STEP_INSTALL:
    case LG_STEP_CONTENT_RELOAD:
    case LG_STEP_EXEC:
    case LG_STEP_FETCH:
    case LG_STEP_STRESS: return 0;
    }
    return 0;
}

/* The steps of the repeat that starts at raw[first]: up to the first step
 * of another repeat or of none. */
static size_t repeat_length(const lg_step *raw, size_t n_raw, size_t first)
{
    size_t end = first;
    while (end < n_raw && raw[end].repeat == raw[first].repeat)
        end++;
    return end - first;
}

int lg_scenario_expand(lg_scenario *sc, long auto_cycles, const char *file, lg_diags *diags)
{
    size_t errors_before = lg_diags_errors(diags);
    /* sizes first, so that nothing is copied for a scenario refused */
    size_t total = 0;
    for (size_t i = 0; i < sc->n_steps;) {
        const lg_step *st = &sc->steps[i];
        if (!st->repeat) {
            total++;
            i++;
            continue;
        }
        size_t len = repeat_length(sc->steps, sc->n_steps, i);
        long cycles = st->cycles;
        if (st->auto_cycles && auto_cycles <= 0)
            lg_diags_add(diags, file, st->repeat_line, false,
                         "count=\"auto\" needs the failure-rate bound: give <policy> max-failure-rate=\"P\" "
                         "and confidence=\"C\" (e.g. 0.1 and 0.95: 29 cycles)");
        if (st->auto_cycles)
            cycles = auto_cycles;
        if (cycles < 1)
            cycles = 1;
        if ((size_t)cycles * len > LG_SCENARIO_MAX_STEPS - total) {
            lg_diags_add(diags, file, st->repeat_line, false,
                         "scenario '%s': %ld cycles of %zu step(s) make more than %d steps", sc->id, cycles, len,
                         LG_SCENARIO_MAX_STEPS);
            total = LG_SCENARIO_MAX_STEPS;
        } else {
            total += (size_t)cycles * len;
        }
        i += len;
    }
    if (lg_diags_errors(diags) > errors_before)
        return -EINVAL;

    /* each step of the old list is moved into its first copy, so only the
     * other cycles' copies duplicate strings */
    lg_step *flat = lg_calloc(total + 1, sizeof(*flat));
    size_t n = 0;
    for (size_t i = 0; i < sc->n_steps;) {
        if (!sc->steps[i].repeat) {
            flat[n++] = sc->steps[i++];
            continue;
        }
        size_t len = repeat_length(sc->steps, sc->n_steps, i);
        int cycles = sc->steps[i].auto_cycles ? (int)auto_cycles : sc->steps[i].cycles;
        if (cycles < 1)
            cycles = 1;
        for (int cycle = 1; cycle <= cycles; cycle++) {
            for (size_t k = 0; k < len; k++) {
                lg_step *st = &flat[n++];
                if (cycle == 1)
                    *st = sc->steps[i + k];
                else
                    lg_step_copy(st, &sc->steps[i + k]);
                st->cycle = cycle;
                st->cycles = cycles;
                st->cycle_last = k == len - 1;
            }
        }
        i += len;
    }
    free(sc->steps);
    sc->steps = flat;
    sc->n_steps = n;
    return 0;
}

void lg_scenario_count(const lg_scenario *sc, lg_scenario_counts *out)
{
    lg_scenario_counts counts = { .boots = 1 };
    for (size_t i = 0; i < sc->n_steps; i++) {
        const lg_step *st = &sc->steps[i];
        counts.boots += lg_step_boots(st);
        if (st->cycle_last) {
            counts.cycles++;
            counts.auto_cycles += st->auto_cycles;
        }
    }
    *out = counts;
}

const char *lg_accel_name(lg_accel accel)
{
    switch (accel) {
    case LG_ACCEL_AUTO: return "auto";
    case LG_ACCEL_KVM: return "kvm";
    case LG_ACCEL_TCG: return "tcg";
    }
    return "?";
}

int lg_accel_parse(const char *s, lg_accel *out)
{
    static const lg_accel all[] = { LG_ACCEL_AUTO, LG_ACCEL_KVM, LG_ACCEL_TCG };
    for (size_t i = 0; i < LG_N_ELEMENTS(all); i++) {
        if (strcmp(s, lg_accel_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -EINVAL;
}

void lg_matrix_free(lg_matrix *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_hosts; i++) {
        free(m->hosts[i].id);
        free(m->hosts[i].uri);
        free(m->hosts[i].pool_dir);
    }
    for (size_t i = 0; i < m->n_guests; i++) {
        free(m->guests[i].id);
        lg_profile_free(m->guests[i].profile);
    }
    for (size_t i = 0; i < m->n_builds; i++) {
        lg_build *b = &m->builds[i];
        free(b->id); free(b->dir); free(b->install); free(b->content_hook); free(b->health);
        for (size_t k = 0; k < b->n_processes; k++)
            free(b->processes[k]);
        free(b->processes);
        for (size_t k = 0; k < b->n_drivers; k++)
            free(b->drivers[k]);
        free(b->drivers);
    }
    for (size_t i = 0; i < m->n_contents; i++) {
        free(m->contents[i].id);
        free(m->contents[i].dir);
    }
    for (size_t i = 0; i < m->n_scenarios; i++) {
        for (size_t j = 0; j < m->scenarios[i].n_steps; j++)
            free(m->scenarios[i].steps[j].command);
        free(m->scenarios[i].steps);
        free(m->scenarios[i].id);
    }
    for (size_t i = 0; i < m->n_excludes; i++) {
        lg_exclude *e = &m->excludes[i];
        free(e->guest); free(e->build); free(e->content); free(e->scenario);
    }
    free(m->hosts); free(m->guests); free(m->builds); free(m->contents);
    free(m->scenarios); free(m->excludes);
    free(m->path); free(m->name);
    free(m);
}

/* Reports an id used twice within one kind of element.  Every element struct
 * starts with its id and holds its line at line_offset. */
static void check_unique(lg_diags *diags, const char *file, const char *kind, const void *items,
                         size_t n, size_t stride, size_t line_offset)
{
    const char *base = items;
    for (size_t i = 0; i < n; i++) {
        const char *id_i = *(char *const *)(base + i * stride);
        for (size_t j = 0; j < i; j++) {
            const char *id_j = *(char *const *)(base + j * stride);
            if (strcmp(id_i, id_j) == 0) {
                lg_diags_add(diags, file, *(const int *)(base + i * stride + line_offset), false,
                             "duplicate %s id '%s' (first defined on line %d)", kind, id_i,
                             *(const int *)(base + j * stride + line_offset));
                break;
            }
        }
    }
}

#define CHECK_UNIQUE(diags, file, kind, arr, n) \
    check_unique(diags, file, kind, arr, n, sizeof(*(arr)), offsetof(__typeof__(*(arr)), line))

#define FIND_ID(arr, n, wanted)                                       \
    ({                                                                \
        bool found_ = false;                                          \
        for (size_t k_ = 0; k_ < (n); k_++)                           \
            found_ = found_ || strcmp((arr)[k_].id, (wanted)) == 0;   \
        found_;                                                       \
    })

/* 0 when absent, -1 when not a number (the schema allows only decimals
 * in (0, 1); the bound's check says what is wrong with anything else). */
static double attr_probability(xmlNodePtr node, const char *name)
{
    LG_AUTOFREE char *v = attr(node, name);
    if (!v)
        return 0;
    char *end;
    double d = strtod(v, &end);
    return end != v && !*end && d != 0 ? d : -1;
}

/* <policy hardening driver-verifier>: each for the guests of one OS
 * (model/hardening.h); asked of a guest of another OS, refused by name. */
static void parse_guest_policies(xmlNodePtr node, lg_matrix *m, const char *path, lg_diags *diags)
{
    if (!node)
        return;
    int line = (int)xmlGetLineNo(node);
    LG_AUTOFREE char *hardening = attr(node, "hardening");
    if (hardening && lg_hardening_parse(hardening, &m->policy.hardening) < 0)
        lg_diags_add(diags, path, line, false, "<policy> hardening=\"%s\": expected none or slub", hardening);
    LG_AUTOFREE char *verifier = attr(node, "driver-verifier");
    if (verifier && lg_driver_verifier_parse(verifier, &m->policy.driver_verifier) < 0)
        lg_diags_add(diags, path, line, false,
                     "<policy> driver-verifier=\"%s\": expected none, standard or special-pool", verifier);
    for (size_t i = 0; m->policy.driver_verifier != LG_VERIFIER_NONE && i < m->n_builds; i++)
        if (!m->builds[i].n_drivers)
            lg_diags_add(diags, path, m->builds[i].line, false,
                         "build '%s' names no drivers (drivers=\"NAME.sys ...\"): <policy> driver-verifier=\"%s\" "
                         "verifies the build's drivers",
                         m->builds[i].id, lg_driver_verifier_name(m->policy.driver_verifier));
    for (size_t i = 0; i < m->n_guests; i++) {
        const lg_guest *g = &m->guests[i];
        if (!g->profile)
            continue;
        if (m->policy.hardening != LG_HARDENING_NONE && g->profile->os != LG_OS_LINUX)
            lg_diags_add(diags, path, g->line, false,
                         "guest '%s' runs %s: <policy> hardening=\"%s\" is for Linux guests (their kernel's "
                         "command line); run Windows guests with driver-verifier in a matrix of their own",
                         g->id, lg_os_name(g->profile->os), lg_hardening_name(m->policy.hardening));
        if (m->policy.driver_verifier != LG_VERIFIER_NONE && g->profile->os != LG_OS_WINDOWS)
            lg_diags_add(diags, path, g->line, false,
                         "guest '%s' runs %s: <policy> driver-verifier=\"%s\" is Windows' Driver Verifier "
                         "(for a Linux guest's heap checks use hardening=\"slub\") in a matrix of its own",
                         g->id, lg_os_name(g->profile->os), lg_driver_verifier_name(m->policy.driver_verifier));
    }
}

static void parse_policy(xmlNodePtr node, lg_policy *pol)
{
    *pol = (lg_policy){
        .boot_timeout_s = 180,
        .step_timeout_s = 300,
        .heartbeat_interval_s = 5,
        .heartbeat_misses = 4,
        .crash_grace_s = 5,
        .tcg_scale = 4,
        .accel = LG_ACCEL_AUTO,
        .strict = false,
        .seed = 0,
        .fetch_max_mib = LG_FETCH_MAX_MIB_DEFAULT,
        .baseline_retries = 1,
        .infra_retries = 1,
        .host_drain_after = 2,
        .max_host_load = 2.0,
    };
    if (!node)
        return;
    pol->boot_timeout_s = attr_int(node, "boot-timeout-s", pol->boot_timeout_s);
    pol->step_timeout_s = attr_int(node, "step-timeout-s", pol->step_timeout_s);
    pol->heartbeat_interval_s = attr_int(node, "heartbeat-interval-s", pol->heartbeat_interval_s);
    pol->heartbeat_misses = attr_int(node, "heartbeat-misses", pol->heartbeat_misses);
    pol->crash_grace_s = attr_int(node, "crash-grace-s", pol->crash_grace_s);
    pol->tcg_scale = attr_int(node, "tcg-scale", pol->tcg_scale);
    pol->fetch_max_mib = attr_int(node, "fetch-max-mib", pol->fetch_max_mib);
    pol->baseline_retries = attr_int(node, "baseline-retries", pol->baseline_retries);
    pol->infra_retries = attr_int(node, "infra-retries", pol->infra_retries);
    pol->host_drain_after = attr_int(node, "host-drain-after", pol->host_drain_after);
    LG_AUTOFREE char *warnings = attr(node, "warnings");
    pol->warnings_report = warnings && strcmp(warnings, "report") == 0;
    LG_AUTOFREE char *overcommit = attr(node, "overcommit");
    pol->overcommit = overcommit && strcmp(overcommit, "allow") == 0;
    LG_AUTOFREE char *baseline = attr(node, "baseline");
    pol->baseline_first = baseline && strcmp(baseline, "first") == 0;
    LG_AUTOFREE char *max_load = attr(node, "max-host-load");
    if (max_load) {
        char *end = NULL;
        double v = g_ascii_strtod(max_load, &end);
        if (end != max_load && *end == '\0' && v >= 0)
            pol->max_host_load = v;
    }
    LG_AUTOFREE char *accel = attr(node, "accel");
    if (accel)
        lg_accel_parse(accel, &pol->accel);
    LG_AUTOFREE char *strict = attr(node, "strict");
    pol->strict = strict && (strcmp(strict, "true") == 0 || strcmp(strict, "1") == 0);
    LG_AUTOFREE char *dump = attr(node, "memory-dump");
    pol->memory_dump_on_crash = dump && strcmp(dump, "on-crash") == 0;
    LG_AUTOFREE char *seed = attr(node, "seed");
    if (seed) {
        char *end;
        unsigned long long v = strtoull(seed, &end, 10);
        if (end != seed && !*end)
            pol->seed = v;
    }
    pol->max_failure_rate = attr_probability(node, "max-failure-rate");
    pol->confidence = attr_probability(node, "confidence");
}

/* baseline="none|first": the schema checks it too; this names the value */
static void check_baseline_attr(xmlNodePtr policy, const char *file, lg_diags *diags)
{
    LG_AUTOFREE char *baseline = policy ? attr(policy, "baseline") : NULL;
    if (baseline && strcmp(baseline, "none") != 0 && strcmp(baseline, "first") != 0)
        lg_diags_add(diags, file, (int)xmlGetLineNo(policy), false,
                     "<policy> baseline '%s' is unknown (none or first)", baseline);
}

/* <stress kind seconds [workers]>: the schema checks these too; this says
 * which value is wrong in words a user can act on. */
static void parse_stress(xmlNodePtr c, lg_step *st, const char *file, lg_diags *diags)
{
    LG_AUTOFREE char *kind = attr(c, "kind");
    LG_AUTOFREE char *seconds = attr(c, "seconds");
    LG_AUTOFREE char *workers = attr(c, "workers");
    if (!kind)
        lg_diags_add(diags, file, st->line, false,
                     "<stress> needs kind=\"process|file|network|memory|cpu|io\"");
    else if (lg_stress_kind_parse(kind, &st->stress_kind) < 0)
        lg_diags_add(diags, file, st->line, false,
                     "<stress> kind '%s' is unknown (process, file, network, memory, cpu or io)", kind);
    if (!seconds)
        lg_diags_add(diags, file, st->line, false, "<stress> needs seconds=\"N\" (1 to %d)", LG_STRESS_MAX_SECONDS);
    else if (lg_parse_int(seconds, &st->stress_seconds) < 0 || st->stress_seconds < 1 ||
             st->stress_seconds > LG_STRESS_MAX_SECONDS)
        lg_diags_add(diags, file, st->line, false, "<stress> seconds '%s' is not a whole number from 1 to %d",
                     seconds, LG_STRESS_MAX_SECONDS);
    if (workers && (lg_parse_int(workers, &st->stress_workers) < 0 || st->stress_workers < 1 ||
                    st->stress_workers > LG_STRESS_MAX_WORKERS))
        lg_diags_add(diags, file, st->line, false, "<stress> workers '%s' is not a whole number from 1 to %d",
                     workers, LG_STRESS_MAX_WORKERS);
}

/* libxml2 says only "Element stress failed to validate attributes": which
 * value is wrong, said by the parser's own checks. */
static void explain_schema_errors(xmlNodePtr node, const char *path, lg_diags *diags)
{
    for (; node; node = node->next) {
        if (!lg_xml_is_element(node, NULL))
            continue;
        if (strcmp((const char *)node->name, "stress") == 0) {
            lg_step scratch = { .kind = LG_STEP_STRESS, .line = line_of(node) };
            parse_stress(node, &scratch, path, diags);
        }
        explain_schema_errors(node->children, path, diags);
    }
}

/* Steps under node, those inside a <repeat> once each. */
static size_t count_steps(xmlNodePtr node)
{
    size_t n = 0;
    for (xmlNodePtr c = node->children; c; c = c->next)
        n += lg_xml_is_element(c, "repeat") ? count_steps(c) : lg_xml_is_element(c, NULL);
    return n;
}

/* count="N" or count="auto" of a <repeat> or <reboot>: *cycles = N, or 0
 * with *is_auto. */
static void parse_cycles(xmlNodePtr node, int *cycles, bool *is_auto)
{
    LG_AUTOFREE char *count = attr(node, "count");
    *is_auto = count && strcmp(count, "auto") == 0;
    *cycles = *is_auto ? 0 : attr_int(node, "count", 1);
}

/* The steps [first, n_steps) are the body of the <repeat> node: numbered
 * as the scenario's next repeat (expanded later, lg_scenario_expand). */
static void mark_repeat(xmlNodePtr node, lg_scenario *sc, size_t first, const char *file, lg_diags *diags)
{
    int number = 1;
    for (size_t i = 0; i < first; i++)
        if (sc->steps[i].repeat >= number)
            number = sc->steps[i].repeat + 1;
    int cycles = 0;
    bool is_auto = false;
    parse_cycles(node, &cycles, &is_auto);
    for (size_t i = first; i < sc->n_steps; i++) {
        lg_step *st = &sc->steps[i];
        if (st->repeat) {
            /* the schema refuses a <repeat> in a <repeat>; a count="auto"
             * reboot is a repeat of its own */
            lg_diags_add(diags, file, st->line, false,
                         "<%s count=\"auto\"> inside <repeat> (line %d): repeats do not nest; give the "
                         "<repeat> count=\"auto\" instead",
                         lg_step_kind_name(st->kind), line_of(node));
            continue;
        }
        st->repeat = number;
        st->repeat_line = line_of(node);
        st->cycles = cycles;
        st->auto_cycles = is_auto;
    }
}

static void parse_steps(xmlNodePtr node, lg_scenario *sc, const char *file, lg_diags *diags)
{
    if (!sc->steps)
        sc->steps = lg_calloc(count_steps(node) + 1, sizeof(*sc->steps));
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (!lg_xml_is_element(c, NULL))
            continue;
        if (lg_xml_is_element(c, "repeat")) {
            size_t first = sc->n_steps;
            parse_steps(c, sc, file, diags);
            mark_repeat(c, sc, first, file, diags);
            continue;
        }
        lg_step *st = &sc->steps[sc->n_steps++];
        const char *name = (const char *)c->name;
        st->kind = strcmp(name, "wait-ready") == 0 ? LG_STEP_WAIT_READY
                 : strcmp(name, "install") == 0 ? LG_STEP_INSTALL
                 : strcmp(name, "apply-content") == 0 ? LG_STEP_APPLY_CONTENT
                 : strcmp(name, "reboot") == 0 ? LG_STEP_REBOOT
                 : strcmp(name, "fetch") == 0 ? LG_STEP_FETCH
                 : strcmp(name, "content-reload") == 0 ? LG_STEP_CONTENT_RELOAD
                 : strcmp(name, "power-cycle") == 0 ? LG_STEP_POWER_CYCLE
                 : strcmp(name, "cold-boot") == 0 ? LG_STEP_COLD_BOOT
                 : strcmp(name, "stress") == 0 ? LG_STEP_STRESS
                 : LG_STEP_EXEC;
        st->count = attr_int(c, "count", 1);
        st->command = attr(c, st->kind == LG_STEP_FETCH ? "path" : "command");
        st->timeout_s = attr_int(c, "timeout-s", 0);
        st->cut_power_within_ms = attr_int(c, "cut-power-within-ms", 0);
        st->line = line_of(c);
        if (st->kind == LG_STEP_STRESS)
            parse_stress(c, st, file, diags);
        if (st->kind == LG_STEP_REBOOT) {
            int cycles = 0;
            bool is_auto = false;
            parse_cycles(c, &cycles, &is_auto);
            if (is_auto) {
                /* one reboot a cycle, as <repeat count="auto"><reboot/></repeat> */
                st->count = 1;
                mark_repeat(c, sc, sc->n_steps - 1, file, diags);
            }
        }
    }
}

/* The policy's failure-rate bound checked, and every scenario's repeats
 * expanded with it (count="auto": the bound's cycles). */
static void expand_scenarios(xmlNodePtr policy, lg_matrix *m, const char *file, lg_diags *diags)
{
    lg_policy *pol = &m->policy;
    int line = policy ? line_of(policy) : 0;
    bool has_rate = pol->max_failure_rate != 0, has_confidence = pol->confidence != 0;
    /* an auto count of a policy already reported wrong is not reported again */
    long auto_cycles = has_rate || has_confidence ? 1 : 0;
    if (has_rate != has_confidence) {
        lg_diags_add(diags, file, line, false,
                     "<policy> %s without %s: the failure-rate bound needs both (e.g. max-failure-rate=\"0.1\" "
                     "confidence=\"0.95\")",
                     has_rate ? "max-failure-rate" : "confidence", has_rate ? "confidence" : "max-failure-rate");
    } else if (has_rate) {
        long n = lg_bound_cycles(pol->max_failure_rate, pol->confidence);
        if (n < 0)
            lg_diags_add(diags, file, line, false,
                         "<policy> max-failure-rate and confidence must be numbers between 0 and 1 (exclusive)");
        else if (n > LG_BOUND_MAX_CYCLES)
            lg_diags_add(diags, file, line, false,
                         "<policy> max-failure-rate=\"%g\" at confidence=\"%g\" needs %ld cycles for every "
                         "count=\"auto\", more than labgate runs (%d): raise max-failure-rate or lower confidence",
                         pol->max_failure_rate, pol->confidence, n, LG_BOUND_MAX_CYCLES);
        else
            auto_cycles = pol->bound_cycles = n;
    }
    bool any_auto = false;
    size_t total = 0;
    for (size_t i = 0; i < m->n_scenarios; i++) {
        lg_scenario *sc = &m->scenarios[i];
        for (size_t k = 0; k < sc->n_steps; k++)
            any_auto = any_auto || sc->steps[k].auto_cycles;
        if (total > LG_MATRIX_MAX_STEPS) {
            /* a few kilobytes of XML must not make gigabytes of steps */
            lg_diags_add(diags, file, sc->line, false,
                         "scenario '%s': the scenarios before it expand to more than %d steps in all", sc->id,
                         LG_MATRIX_MAX_STEPS);
            break;
        }
        lg_scenario_expand(sc, auto_cycles, file, diags);
        total += sc->n_steps;
    }
    if (pol->bound_cycles && !any_auto)
        lg_diags_add(diags, file, line, true,
                     "<policy> has a failure-rate bound but no scenario has count=\"auto\" (on <repeat> or "
                     "<reboot>): it changes nothing");
}

/* A build's list attribute ("NAME NAME,NAME"): each name that `valid`
 * takes appended to *names, each other one an error that says `shape`; an
 * attribute naming nothing is an error too. */
static void parse_name_list(xmlNodePtr node, const char *name_attr, bool (*valid)(const char *name),
                            const char *shape, const char *none, const lg_build *b, char ***names, size_t *n,
                            const char *file, lg_diags *diags)
{
    LG_AUTOFREE char *list = attr(node, name_attr);
    if (!list)
        return;
    char *save = NULL;
    for (char *name = strtok_r(list, " \t\n,", &save); name; name = strtok_r(NULL, " \t\n,", &save)) {
        if (!valid(name)) {
            lg_diags_add(diags, file, b->line, false, "build '%s': %s: '%s' is not %s", b->id, name_attr, name,
                         shape);
            continue;
        }
        *names = lg_realloc_n(*names, *n + 1, sizeof(**names));
        (*names)[(*n)++] = lg_strdup(name);
    }
    if (!*n)
        lg_diags_add(diags, file, b->line, false, "build '%s': %s names no %s", b->id, name_attr, none);
}

static bool name_chars(const char *name, const char *punct)
{
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr(punct, *p)))
            return false;
    return true;
}

/* processes="NAME ...": names as the kernel prints them in a crash line
 * ("NAME[PID]: segfault at ..."): 1..15 bytes of [A-Za-z0-9._+-]. */
static bool process_name_ok(const char *name)
{
    size_t len = strlen(name);
    return len > 0 && len <= LG_PROCESS_NAME_MAX && name_chars(name, "._+-");
}

/* drivers="NAME.sys ...": the file names verifier.exe takes (/driver),
 * 1..64 bytes of [A-Za-z0-9._-] ending in .sys. */
static bool driver_name_ok(const char *name)
{
    size_t len = strlen(name);
    return len > 4 && len <= 64 && strcasecmp(name + len - 4, ".sys") == 0 && name[0] != '.' &&
           name_chars(name, "._-");
}

static void parse_processes(xmlNodePtr node, lg_build *b, const char *file, lg_diags *diags)
{
    LG_AUTOFREE char *shape = lg_strdup_printf("a process name (1..%d of A-Z a-z 0-9 . _ + -)", LG_PROCESS_NAME_MAX);
    parse_name_list(node, "processes", process_name_ok, shape, "process", b, &b->processes, &b->n_processes,
                    file, diags);
}

static void parse_drivers(xmlNodePtr node, lg_build *b, const char *file, lg_diags *diags)
{
    parse_name_list(node, "drivers", driver_name_ok, "a driver's file name (NAME.sys, 1..64 of A-Z a-z 0-9 . _ -)",
                    "driver", b, &b->drivers, &b->n_drivers, file, diags);
}

/* What a job would refuse to upload (base/tree.h: a link out of the tree,
 * a fifo, a loop), said up front.  A warning: the tree can still change
 * before the run, where the job's own check decides (UPLOAD_REFUSED). */
static void warn_unsafe_upload(lg_diags *diags, const char *file, int line, const char *what, const char *id,
                               const char *dir)
{
    if (!lg_is_dir(dir))
        return; /* reported already */
    LG_AUTO(lg_tree_plan) plan = NULL;
    if (lg_tree_plan_make(dir, &plan) == -EPERM)
        lg_diags_add(diags, file, line, true, "%s '%s': its jobs will refuse to upload it: %s", what, id,
                     lg_error_msg());
}

int lg_matrix_load(const char *path, lg_matrix **out, lg_diags *diags)
{
    size_t errors_before = lg_diags_errors(diags);
    xmlDocPtr doc = load_validated(path, "matrix", diags);
    if (!doc)
        return -EINVAL;
    LG_AUTOFREE char *dir = abs_dirname(path);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    LG_AUTO(lg_matrix) m = LG_NEW0(lg_matrix);
    m->path = abs_path(path);
    m->name = attr(root, "name");
    if (!m->name) {
        /* default: the file name without directory and extension */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        m->name = lg_strndup(base, strcspn(base, "."));
    }

    xmlNodePtr sect;
    sect = child(root, "hosts");
    m->hosts = lg_calloc(count_children(sect, "host"), sizeof(*m->hosts));
    for (xmlNodePtr c = sect->children; c; c = c->next) {
        if (!lg_xml_is_element(c, "host"))
            continue;
        lg_host *h = &m->hosts[m->n_hosts++];
        h->id = attr(c, "id");
        h->uri = attr(c, "uri");
        h->slots = attr_int(c, "slots", 0); /* 0: from the host's CPUs and memory */
        h->line = line_of(c);
        h->pool_dir = attr(c, "pool-dir");
        if (h->pool_dir && (h->pool_dir[0] != '/' || strpbrk(h->pool_dir, "\n\r"))) {
            lg_diags_add(diags, path, h->line, false,
                         "host '%s': pool-dir must be an absolute path on the host, not '%s'", h->id, h->pool_dir);
            free(h->pool_dir);
            h->pool_dir = NULL;
        }
    }

    sect = child(root, "guests");
    m->guests = lg_calloc(count_children(sect, "guest"), sizeof(*m->guests));
    for (xmlNodePtr c = sect->children; c; c = c->next) {
        if (!lg_xml_is_element(c, "guest"))
            continue;
        lg_guest *g = &m->guests[m->n_guests++];
        g->id = attr(c, "id");
        g->line = line_of(c);
        LG_AUTOFREE char *profile_path = path_attr(c, "profile", dir);
        if (!lg_is_file(profile_path)) {
            lg_diags_add(diags, path, g->line, false, "guest '%s': profile file %s not found", g->id, profile_path);
            continue;
        }
        lg_profile_load(profile_path, &g->profile, diags);
    }

    sect = child(root, "builds");
    m->builds = lg_calloc(count_children(sect, "build"), sizeof(*m->builds));
    for (xmlNodePtr c = sect->children; c; c = c->next) {
        if (!lg_xml_is_element(c, "build"))
            continue;
        lg_build *b = &m->builds[m->n_builds++];
        b->id = attr(c, "id");
        b->line = line_of(c);
        b->dir = path_attr(c, "dir", dir);
        LG_AUTOFREE char *status = attr(c, "status");
        b->candidate = strcmp(status, "candidate") == 0;
        b->install = attr(c, "install");
        b->content_hook = attr(c, "content-hook");
        b->health = attr(c, "health");
        parse_processes(c, b, path, diags);
        parse_drivers(c, b, path, diags);
        if (!lg_is_dir(b->dir)) {
            lg_diags_add(diags, path, b->line, false,
                         "build '%s': directory %s not found (build the sample agent: guests/sample-agent/build.sh)",
                         b->id, b->dir);
            continue;
        }
        /* The default commands name scripts that must be in the build. */
        static const struct { const char *script; size_t field; } defaults[] = {
            { "install.sh", offsetof(lg_build, install) },
            { "apply-content.sh", offsetof(lg_build, content_hook) },
        };
        for (size_t k = 0; k < LG_N_ELEMENTS(defaults); k++) {
            char **cmd = (char **)((char *)b + defaults[k].field);
            if (*cmd)
                continue;
            LG_AUTOFREE char *script = lg_path_join(b->dir, defaults[k].script);
            if (!lg_is_file(script))
                lg_diags_add(diags, path, b->line, false,
                             "build '%s': %s not found in %s (or name the command with the %s attribute)",
                             b->id, defaults[k].script, b->dir, k == 0 ? "install" : "content-hook");
            *cmd = lg_strdup_printf("sh ./%s", defaults[k].script);
        }
    }

    sect = child(root, "contents");
    m->contents = lg_calloc(count_children(sect, "content"), sizeof(*m->contents));
    for (xmlNodePtr c = sect->children; c; c = c->next) {
        if (!lg_xml_is_element(c, "content"))
            continue;
        lg_content *ct = &m->contents[m->n_contents++];
        ct->id = attr(c, "id");
        ct->line = line_of(c);
        ct->dir = path_attr(c, "dir", dir);
        if (!lg_is_dir(ct->dir))
            lg_diags_add(diags, path, ct->line, false, "content '%s': directory %s not found", ct->id, ct->dir);
    }

    sect = child(root, "scenarios");
    m->scenarios = lg_calloc(count_children(sect, "scenario"), sizeof(*m->scenarios));
    for (xmlNodePtr c = sect->children; c; c = c->next) {
        if (!lg_xml_is_element(c, "scenario"))
            continue;
        lg_scenario *sc = &m->scenarios[m->n_scenarios++];
        sc->id = attr(c, "id");
        sc->line = line_of(c);
        parse_steps(c, sc, path, diags);
    }

    m->excludes = lg_calloc(count_children(root, "exclude") + 1, sizeof(*m->excludes));
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (!lg_xml_is_element(c, "exclude"))
            continue;
        lg_exclude *e = &m->excludes[m->n_excludes++];
        e->guest = attr(c, "guest");
        e->build = attr(c, "build");
        e->content = attr(c, "content");
        e->scenario = attr(c, "scenario");
        e->line = line_of(c);
        if (!e->guest && !e->build && !e->content && !e->scenario)
            lg_diags_add(diags, path, e->line, false, "<exclude> names nothing: it would exclude every job");
        if (e->guest && !FIND_ID(m->guests, m->n_guests, e->guest))
            lg_diags_add(diags, path, e->line, false, "<exclude> names unknown guest '%s'", e->guest);
        if (e->build && !FIND_ID(m->builds, m->n_builds, e->build))
            lg_diags_add(diags, path, e->line, false, "<exclude> names unknown build '%s'", e->build);
        if (e->content && !FIND_ID(m->contents, m->n_contents, e->content))
            lg_diags_add(diags, path, e->line, false, "<exclude> names unknown content '%s'", e->content);
        if (e->scenario && !FIND_ID(m->scenarios, m->n_scenarios, e->scenario))
            lg_diags_add(diags, path, e->line, false, "<exclude> names unknown scenario '%s'", e->scenario);
    }

    parse_policy(child(root, "policy"), &m->policy);
    parse_guest_policies(child(root, "policy"), m, path, diags);
    if (m->policy.strict && m->policy.warnings_report)
        lg_diags_add(diags, path, (int)xmlGetLineNo(child(root, "policy")), false,
                     "<policy> warnings=\"report\" contradicts strict=\"true\": a strict guest panics on "
                     "every WARNING (use warnings=\"block\" or strict=\"false\")");
    check_baseline_attr(child(root, "policy"), path, diags);
    expand_scenarios(child(root, "policy"), m, path, diags);
    xmlFreeDoc(doc);

    CHECK_UNIQUE(diags, path, "host", m->hosts, m->n_hosts);
    CHECK_UNIQUE(diags, path, "guest", m->guests, m->n_guests);
    CHECK_UNIQUE(diags, path, "build", m->builds, m->n_builds);
    CHECK_UNIQUE(diags, path, "content", m->contents, m->n_contents);
    CHECK_UNIQUE(diags, path, "scenario", m->scenarios, m->n_scenarios);
    for (size_t i = 0; i < m->n_builds; i++)
        warn_unsafe_upload(diags, path, m->builds[i].line, "build", m->builds[i].id, m->builds[i].dir);
    for (size_t i = 0; i < m->n_contents; i++)
        warn_unsafe_upload(diags, path, m->contents[i].line, "content", m->contents[i].id, m->contents[i].dir);

    if (lg_diags_errors(diags) > errors_before)
        return -EINVAL;
    *out = LG_STEAL(m);
    return 0;
}
