#include "remote.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

LG_LOG_INIT("remote");

typedef struct parsed_uri {
    GUri *uri;
    char driver[32];
    char transport[32]; /* "" when none */
} parsed_uri;

static void parsed_clear(parsed_uri *p)
{
    if (p->uri)
        g_uri_unref(p->uri);
    p->uri = NULL;
}

/* scheme = driver[+transport], as libvirt splits it */
static bool parse(const char *text, parsed_uri *out)
{
    *out = (parsed_uri){ 0 };
    if (!text)
        return false;
    GError *err = NULL;
    out->uri = g_uri_parse(text, G_URI_FLAGS_ENCODED_QUERY | G_URI_FLAGS_NON_DNS, &err);
    if (!out->uri) {
        LG_DEBUG("%s: %s", text, err ? err->message : "not a URI");
        g_clear_error(&err);
        return false;
    }
    const char *scheme = g_uri_get_scheme(out->uri);
    const char *plus = strchr(scheme, '+');
    size_t dlen = plus ? (size_t)(plus - scheme) : strlen(scheme);
    if (dlen >= sizeof(out->driver) || (plus && strlen(plus + 1) >= sizeof(out->transport))) {
        parsed_clear(out);
        return false;
    }
    memcpy(out->driver, scheme, dlen);
    out->driver[dlen] = '\0';
    if (plus)
        strcpy(out->transport, plus + 1);
    return true;
}

static bool has_host(GUri *uri)
{
    const char *host = g_uri_get_host(uri);
    return host && *host;
}

/* the value of a query parameter, or NULL (the caller frees) */
static char *query_param(GUri *uri, const char *name)
{
    const char *query = g_uri_get_query(uri);
    if (!query)
        return NULL;
    GHashTable *params = g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, NULL);
    if (!params)
        return NULL;
    const char *v = g_hash_table_lookup(params, name);
    char *value = v ? lg_strdup(v) : NULL;
    g_hash_table_unref(params);
    return value;
}

bool lg_uri_is_remote(const char *text)
{
    parsed_uri p;
    if (!parse(text, &p))
        return true; /* what cannot be read cannot be proven local */
    bool local_transport = !*p.transport || strcmp(p.transport, "unix") == 0;
    /* test:/// runs in this process and has no files at all */
    bool remote = strcmp(p.driver, "test") != 0 && (!local_transport || has_host(p.uri));
    char *socket = remote ? NULL : query_param(p.uri, "socket");
    if (socket) /* a daemon of another user, perhaps */
        remote = true;
    free(socket);
    parsed_clear(&p);
    return remote;
}

bool lg_uri_on_this_machine(const char *text)
{
    parsed_uri p;
    if (!parse(text, &p))
        return false;
    bool local_transport = !*p.transport || strcmp(p.transport, "unix") == 0;
    bool here = strcmp(p.driver, "test") == 0 || (local_transport && !has_host(p.uri));
    parsed_clear(&p);
    return here;
}

bool lg_uri_is_session(const char *text)
{
    parsed_uri p;
    if (!parse(text, &p))
        return false;
    bool session = strcmp(g_uri_get_path(p.uri), "/session") == 0;
    parsed_clear(&p);
    return session;
}

/* A user or host name an ssh command line or a shell could take for
 * something else (an option, a second argument) is refused. */
static bool plain_name(const char *s, const char *extra)
{
    if (!s || !*s || *s == '-' || strlen(s) > 255)
        return false;
    for (const char *c = s; *c; c++)
        if (!g_ascii_isalnum(*c) && !strchr(extra, *c))
            return false;
    return true;
}

static char *default_user(void)
{
    struct passwd *pw = getpwuid(geteuid());
    return lg_strdup(pw && pw->pw_name ? pw->pw_name : "root");
}

static char *home_path(const char *rel)
{
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(geteuid());
        home = pw && pw->pw_dir ? pw->pw_dir : "/";
    }
    return lg_strdup_printf("%s/%s", home, rel);
}

static int refuse(const char *uri, const char *why)
{
    lg_error_set("host %s: %s", uri, why);
    return -EINVAL;
}

int lg_uri_host_ssh(const char *text, lg_host_ssh *out)
{
    lg_error_clear();
    parsed_uri p;
    if (!parse(text, &p))
        return refuse(text ? text : "(none)", "not a libvirt URI");
    int rc = 0;
    lg_host_ssh ssh = { 0 };
    const char *host = g_uri_get_host(p.uri);
    const char *user = g_uri_get_user(p.uri);
    /* libvirt's transports over SSH (not the guest transport of the same name) */
    static const char *const over_ssh[] = { "ssh", "libssh", "libssh2" };
    bool ssh_transport = false;
    for (size_t i = 0; i < LG_N_ELEMENTS(over_ssh); i++)
        ssh_transport |= strcmp(p.transport, over_ssh[i]) == 0;
    LG_AUTOFREE char *verify = query_param(p.uri, "known_hosts_verify");
    if (!host || !*host) {
        rc = refuse(text, "names no host to reach over SSH");
    } else if (!plain_name(host, ".-:_")) {
        rc = refuse(text, "its host name is not a plain name or address");
    } else if (user && !plain_name(user, "._-")) {
        rc = refuse(text, "its user name is not a plain name");
    } else if (g_uri_get_port(p.uri) != -1 && ssh_transport &&
               (g_uri_get_port(p.uri) < 1 || g_uri_get_port(p.uri) > 65535)) {
        rc = refuse(text, "its port is out of range");
    } else if (verify && strcmp(verify, "normal") != 0) {
        rc = refuse(text, "known_hosts_verify other than normal: labgate never accepts a host key unchecked");
    }
    if (rc == 0) {
        ssh.host = lg_strdup(host);
        ssh.user = user ? lg_strdup(user) : default_user();
        ssh.port = ssh_transport && g_uri_get_port(p.uri) > 0 ? g_uri_get_port(p.uri) : 22;
        ssh.keyfile = query_param(p.uri, "keyfile");
        ssh.known_hosts = query_param(p.uri, "known_hosts");
        if ((ssh.keyfile && ssh.keyfile[0] != '/') || (ssh.known_hosts && ssh.known_hosts[0] != '/'))
            rc = refuse(text, "keyfile and known_hosts must be absolute paths");
        if (!ssh.known_hosts)
            ssh.known_hosts = home_path(".ssh/known_hosts");
    }
    parsed_clear(&p);
    if (rc < 0) {
        lg_host_ssh_clear(&ssh);
        return rc;
    }
    *out = ssh;
    return 0;
}

void lg_host_ssh_clear(lg_host_ssh *ssh)
{
    if (!ssh)
        return;
    free(ssh->user);
    free(ssh->host);
    free(ssh->keyfile);
    free(ssh->known_hosts);
    *ssh = (lg_host_ssh){ 0 };
}

char *lg_uri_remote_log_path(const char *uri, const char *domain, bool swtpm)
{
    if (!lg_uri_is_remote(uri) || !plain_name(domain, "-_."))
        return NULL;
    const char *suffix = swtpm ? "-swtpm" : "";
    /* libvirt's logDir and swtpmLogDir (src/qemu/qemu_conf.c); a session
     * daemon's under the user's XDG cache, which labgate cannot know: the
     * default, relative to the home its SSH session starts in */
    if (lg_uri_is_session(uri))
        return lg_strdup_printf(".cache/libvirt/qemu/log/%s%s.log", domain, suffix);
    return lg_strdup_printf("%s/%s%s.log", swtpm ? "/var/log/swtpm/libvirt/qemu" : "/var/log/libvirt/qemu", domain,
                            suffix);
}
