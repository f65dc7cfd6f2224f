/* Startup checks on how the directives combine (httpd's check_config hook,
 * which runs for `apache2 -t` and before every start and restart).
 *
 * Each directive checks its own argument when it is read. What depends on
 * the combination — a receiver location with no issuer, a guard with no
 * binding — is checked here, on httpd's configuration tree, where every
 * section still carries its file and line. A section's directives "in
 * scope" are its own, those of the sections around it (the virtual host,
 * the main server), and, for a <Location>, those of every <Location> of the
 * same server whose path is the same or a leading part of it. The check is
 * on presence, not on merged values: a configuration it refuses is wrong
 * whichever way httpd merges it. */
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include "bcl_config_check.h"
#include "bcl_logtags.h"
#include "mod_backchannel_logout.h"

typedef struct scope_t {
    const struct scope_t *up;       /* enclosing section (NULL: main server) */
    const ap_directive_t *node;     /* the section (NULL: main server) */
    const ap_directive_t *first;    /* its directives */
    const ap_directive_t *server;   /* directives of its server (main or vhost) */
    int quiet;                      /* a dry pass: count, do not log */
} scope_t;

static int is_section(const ap_directive_t *d, const char *name)
{
    return d->directive[0] == '<' && strcasecmp(d->directive + 1, name) == 0;
}

static int is_location(const ap_directive_t *d)
{
    return is_section(d, "Location") || is_section(d, "LocationMatch");
}

static int is_dir_section(const ap_directive_t *d)
{
    static const char *const names[] = { "Location", "LocationMatch", "Directory", "DirectoryMatch",
                                         "Files", "FilesMatch", "If", "ElseIf", "Else", "Proxy",
                                         "ProxyMatch", NULL };
    if (d->directive[0] != '<')
        return 0;
    for (int i = 0; names[i]; i++)
        if (strcasecmp(d->directive + 1, names[i]) == 0)
            return 1;
    return 0;
}

/* The section's argument without quotes and the closing '>'. */
static const char *section_arg(apr_pool_t *p, const ap_directive_t *d)
{
    char *a = apr_pstrdup(p, d->args ? d->args : "");
    apr_size_t n = strlen(a);
    if (n > 0 && a[n - 1] == '>')
        a[--n] = '\0';
    while (n > 0 && apr_isspace(a[n - 1]))
        a[--n] = '\0';
    if (n >= 2 && (a[0] == '"' || a[0] == '\'') && a[n - 1] == a[0]) {
        a[n - 1] = '\0';
        a++;
    }
    return a;
}

/* The directive's arguments as a lower-case word list. */
static const char *first_word(apr_pool_t *p, const char *args)
{
    const char *a = args ? args : "";
    char *w = ap_getword_conf(p, &a);
    return w ? w : "";
}

/* Directives named `name` directly in the list starting at `first`, and in
 * <If>/<Else> sections there (they apply to the same requests). The last
 * one wins in `last`. Returns how many were found. */
static int find_in(const ap_directive_t *first, const char *name, const ap_directive_t **last)
{
    int n = 0;
    for (const ap_directive_t *d = first; d; d = d->next) {
        if (strcasecmp(d->directive, name) == 0) {
            n++;
            if (last)
                *last = d;
        } else if (is_section(d, "If") || is_section(d, "ElseIf") || is_section(d, "Else")) {
            n += find_in(d->first_child, name, last);
        }
    }
    return n;
}

/* Is <Location outer> a leading part of <Location inner> (or the same)? */
static int location_covers(apr_pool_t *p, const ap_directive_t *outer, const ap_directive_t *inner)
{
    const char *o, *i;
    apr_size_t n;
    if (!is_section(outer, "Location") || !is_section(inner, "Location"))
        return outer == inner;
    o = section_arg(p, outer);
    i = section_arg(p, inner);
    n = strlen(o);
    if (strncmp(o, i, n) != 0)
        return 0;
    return n == 0 || o[n - 1] == '/' || i[n] == '\0' || i[n] == '/';
}

/* Counts `name` in scope: the section, the sections around it, the
 * server's directives, and covering <Location>s of the same server and of
 * the main server. `last` gets the innermost occurrence. */
static int in_scope(apr_pool_t *p, const scope_t *sc, const ap_directive_t *main_first,
                    const char *name, const ap_directive_t **last)
{
    int n = 0;
    const ap_directive_t *l = NULL;

    /* outermost first, so that the innermost one ends in `l` */
    n += find_in(main_first, name, &l);
    if (sc->server != main_first)
        n += find_in(sc->server, name, &l);
    if (sc->node && is_location(sc->node)) {
        const ap_directive_t *lists[2] = { main_first, sc->server != main_first ? sc->server : NULL };
        for (int k = 0; k < 2; k++)
            for (const ap_directive_t *d = lists[k]; d; d = d->next)
                if (d != sc->node && is_location(d) && location_covers(p, d, sc->node))
                    n += find_in(d->first_child, name, &l);
    }
    {
        const scope_t *chain[16];
        int depth = 0;
        for (const scope_t *s = sc; s && s->node && depth < 16; s = s->up)
            chain[depth++] = s;
        while (depth-- > 0)
            n += find_in(chain[depth]->first, name, &l);
    }
    if (last)
        *last = l;
    return n;
}

/* Does any section nested in `first` set `name`? */
static int in_descendants(const ap_directive_t *first, const char *name)
{
    for (const ap_directive_t *d = first; d; d = d->next)
        if (d->first_child && (find_in(d->first_child, name, NULL) || in_descendants(d->first_child, name)))
            return 1;
    return 0;
}

static const char *where(apr_pool_t *p, const ap_directive_t *d)
{
    return apr_psprintf(p, "%s:%d", d->filename ? d->filename : "?", d->line_num);
}

static const char *what(apr_pool_t *p, const scope_t *sc)
{
    if (sc->node == NULL)
        return "the main server configuration";
    return apr_psprintf(p, "%s %s>", sc->node->directive, section_arg(p, sc->node));
}

static int refuse(apr_pool_t *p, server_rec *s, const ap_directive_t *at, const scope_t *sc, const char *msg)
{
    if (sc->quiet)
        return 1;
    ap_log_error(APLOG_MARK, APLOG_CRIT | APLOG_STARTUP, 0, s, BCL_TAG_CONFIG_REFUSED ": %s: %s: %s",
                 where(p, at), what(p, sc), msg);
    return 1;
}

static int is_receiver(apr_pool_t *p, const ap_directive_t *first)
{
    const ap_directive_t *h = NULL;
    find_in(first, "SetHandler", &h);
    return h != NULL && strcasecmp(first_word(p, h->args), "backchannel-logout") == 0;
}

static int is_frontchannel(apr_pool_t *p, const ap_directive_t *first)
{
    const ap_directive_t *h = NULL;
    find_in(first, "SetHandler", &h);
    return h != NULL && strcasecmp(first_word(p, h->args), "frontchannel-logout") == 0;
}

static int is_admin(apr_pool_t *p, const ap_directive_t *first)
{
    const ap_directive_t *h = NULL;
    find_in(first, "SetHandler", &h);
    return h != NULL && strcasecmp(first_word(p, h->args), "backchannel-logout-admin") == 0;
}

/* The admin handler wants a credential on top of Require: a bearer token
 * from BCLAdminTokenFile or a user httpd authenticated. With neither in
 * sight every request is answered 401: safe, so a warning, not a refusal
 * (httpd authentication may come from where this walk cannot see, e.g. a
 * <Directory> or an .htaccess). */
static void warn_admin(apr_pool_t *p, server_rec *s, const scope_t *sc, const ap_directive_t *main_first)
{
    const ap_directive_t *at = sc->node ? sc->node : sc->first;
    if (in_scope(p, sc, main_first, "BCLAdminTokenFile", NULL) || in_scope(p, sc, main_first, "AuthType", NULL))
        return;
    ap_log_error(APLOG_MARK, APLOG_WARNING | APLOG_STARTUP, 0, s, BCL_TAG_ADMIN_NO_CREDENTIAL ": %s: %s: SetHandler "
                 "backchannel-logout-admin with no BCLAdminTokenFile and no AuthType in effect: every request will "
                 "be answered 401 unless httpd authenticates a user there", where(p, at), what(p, sc));
}

/* The front-channel handler compares `iss` with BCLIssuer, and uses it
 * when the OP sends none (Entra ID): nothing else can stand for it. */
static int check_frontchannel(apr_pool_t *p, server_rec *s, const scope_t *sc, const ap_directive_t *main_first)
{
    const ap_directive_t *at = sc->node ? sc->node : sc->first;
    if (!in_scope(p, sc, main_first, "BCLIssuer", NULL))
        return refuse(p, s, at, sc, "SetHandler frontchannel-logout with no BCLIssuer in effect: every logout "
                      "would be answered 500");
    return 0;
}

static int check_receiver(apr_pool_t *p, server_rec *s, const scope_t *sc, const ap_directive_t *main_first)
{
    const ap_directive_t *at = sc->node ? sc->node : sc->first, *d = NULL;
    int bad = 0;

    if (!in_scope(p, sc, main_first, "BCLIssuer", NULL) && !in_scope(p, sc, main_first, "BCLProviderMetadataURL", NULL))
        bad += refuse(p, s, at, sc, "SetHandler backchannel-logout with no BCLIssuer (or BCLProviderMetadataURL) in "
                      "effect: every logout would be answered 500");
    if (!in_scope(p, sc, main_first, "BCLClientID", NULL))
        bad += refuse(p, s, at, sc, "SetHandler backchannel-logout with no BCLClientID in effect: every logout "
                      "would be answered 500");
    if (!in_scope(p, sc, main_first, "BCLJWKSFile", NULL) && !in_scope(p, sc, main_first, "BCLJWKSURI", NULL)
        && !in_scope(p, sc, main_first, "BCLProviderMetadataURL", NULL)
        && !in_scope(p, sc, main_first, "BCLClientSecret", NULL))
        bad += refuse(p, s, at, sc, "SetHandler backchannel-logout with no key source in effect (BCLJWKSFile, "
                      "BCLJWKSURI, BCLProviderMetadataURL or BCLClientSecret): every logout would be answered 500");
    if (in_scope(p, sc, main_first, "BCLRequireEncryption", &d) && d
        && strcasecmp(first_word(p, d->args), "on") == 0 && !in_scope(p, sc, main_first, "BCLDecryptionKey", NULL))
        bad += refuse(p, s, d, sc, "BCLRequireEncryption On with no BCLDecryptionKey in effect: every token "
                      "would be refused");
    d = NULL;
    if (in_scope(p, sc, main_first, "BCLSigningAlg", &d) && d && !in_scope(p, sc, main_first, "BCLClientSecret", NULL)) {
        const char *a = d->args;
        int hmac_only = 1, any = 0;
        char *w;
        while (*(w = ap_getword_conf(p, &a)) != '\0') {
            any = 1;
            if (strncasecmp(w, "HS", 2) != 0)
                hmac_only = 0;
        }
        if (any && hmac_only)
            bad += refuse(p, s, d, sc, "BCLSigningAlg allows only HMAC algorithms and no BCLClientSecret is in "
                          "effect: every token would be refused");
    }
    return bad;
}

static int check_guard(apr_pool_t *p, server_rec *s, const scope_t *sc, const ap_directive_t *main_first)
{
    const ap_directive_t *cookie = NULL, *bind = NULL;
    int bad = 0;

    /* a section that turns the guard on must have a binding in effect (the
     * front-channel handler only reads the names: the guard is off there) */
    if (find_in(sc->first, "BCLSessionCookie", &cookie) && cookie && !is_frontchannel(p, sc->first)
        && !in_scope(p, sc, main_first, "BCLBindFrom", NULL) && !in_descendants(sc->first, "BCLBindFrom"))
        bad += refuse(p, s, cookie, sc, "BCLSessionCookie with no BCLBindFrom in effect: the guard would bind no "
                      "session, so it would let every session through (add BCLBindFrom response-header or "
                      "BCLBindFrom env)");
    /* a binding header nobody removes reaches the browser */
    if (find_in(sc->first, "BCLBindFrom", &bind) && bind
        && strcasecmp(first_word(p, bind->args), "response-header") == 0
        && !in_scope(p, sc, main_first, "BCLSessionCookie", NULL) && !in_descendants(sc->first, "BCLSessionCookie"))
        bad += refuse(p, s, bind, sc, "BCLBindFrom response-header with no BCLSessionCookie in effect: the guard "
                      "is off here, so the app's binding header would reach the browser");
    return bad;
}

/* A section of the main server applies inside every virtual host too,
 * where the host's own directives are in scope: it is refused only when it
 * is incomplete in the main server and in every virtual host. */
static int check_section(apr_pool_t *p, server_rec *s, const scope_t *sc, const ap_directive_t *main_first,
                         int (*check)(apr_pool_t *, server_rec *, const scope_t *, const ap_directive_t *))
{
    scope_t dry = *sc;
    int bad;

    dry.quiet = 1;
    bad = check(p, s, &dry, main_first);
    if (bad && sc->server == main_first) {
        for (const ap_directive_t *v = main_first; v && bad; v = v->next) {
            const scope_t *chain[16];
            scope_t copies[16];
            int depth = 0;
            if (!is_section(v, "VirtualHost") || v->first_child == NULL)
                continue;
            /* the same section chain, with the virtual host as its server */
            for (const scope_t *x = sc; x && depth < 16; x = x->up)
                chain[depth++] = x;
            for (int i = depth - 1; i >= 0; i--) {
                copies[i] = *chain[i];
                copies[i].server = v->first_child;
                copies[i].quiet = 1;
                copies[i].up = i + 1 < depth ? &copies[i + 1] : NULL;
            }
            bad = check(p, s, &copies[0], main_first);
        }
    }
    return bad ? check(p, s, sc, main_first) : 0;
}

static int walk(apr_pool_t *p, server_rec *s, const scope_t *sc, const ap_directive_t *main_first)
{
    int bad = 0;

    if (is_receiver(p, sc->first))
        bad += check_section(p, s, sc, main_first, check_receiver);
    if (is_frontchannel(p, sc->first))
        bad += check_section(p, s, sc, main_first, check_frontchannel);
    if (is_admin(p, sc->first))
        warn_admin(p, s, sc, main_first);
    bad += check_section(p, s, sc, main_first, check_guard);
    for (const ap_directive_t *d = sc->first; d; d = d->next) {
        scope_t child;
        if (d->first_child == NULL)
            continue;
        if (is_section(d, "VirtualHost")) {
            child.up = NULL;
            child.node = d;
            child.first = d->first_child;
            child.server = d->first_child;
            child.quiet = 0;
        } else if (is_dir_section(d) && !is_section(d, "If") && !is_section(d, "ElseIf")
                   && !is_section(d, "Else")) {
            child.up = sc;
            child.node = d;
            child.first = d->first_child;
            child.server = sc->server;
            child.quiet = 0;
        } else {
            continue;
        }
        bad += walk(p, s, &child, main_first);
    }
    return bad;
}

int bcl_config_check(apr_pool_t *ptemp, server_rec *s, const ap_directive_t *tree)
{
    scope_t top = { NULL, NULL, tree, tree, 0 };
    return walk(ptemp, s, &top, tree);
}
