/* What the guard's two halves share: the note the fixup (bcl_guard.c)
 * leaves for the response filter (bcl_guard_bind.c), and the key helpers.
 * Private to those two files. */
#ifndef BCL_GUARD_NOTE_H
#define BCL_GUARD_NOTE_H

#include <httpd.h>
#include <http_config.h>
#include "bcl_config.h"
#include "bcl_cookie.h"
#include "bcl_hasher.h"
#include "bcl_runtime.h"
#include "mod_backchannel_logout.h"

#define MAX_GUARDED_COOKIES 8
/* A value stands for several byte strings (bcl_cookie_value_forms): one key
 * per form. More than this in one request is refused. */
#define MAX_COOKIE_KEYS 32

/* What the fixup learned, for the response filter. Entry i is one hash of
 * one copy of cookie names[i] the request carried. */
typedef struct {
    int count;
    const char *names[MAX_COOKIE_KEYS];       /* the configured name of each key */
    bcl_hkey_t keys[MAX_COOKIE_KEYS];         /* hashes of every form of the request's cookie values */
    int live;                                 /* a cookie is bound to a live session */
    bcl_identity_t id;                        /* that session's identity */
    int expired_by_us;                        /* we sent expiring Set-Cookies (pass mode) */
    int nseen;                                /* the request's copies of session cookies: a */
    bcl_cookie_copy_t seen[MAX_GUARDED_COOKIES]; /* refusal expires their names and spellings */
    /* The response side's rules need, per entry: */
    int copies[MAX_COOKIE_KEYS];              /* copies of names[i] in the request, in every spelling,
                                               * empty ones included (not entries: one copy gives
                                               * one entry per form of its value) */
    int cut_only[MAX_COOKIE_KEYS];            /* a form of a value cut at ',' whose copy runs on to ';'
                                               * (value_semi): looked up, never bound */
    int looked_up[MAX_COOKIE_KEYS];           /* states[i] and ids[i] are the store's answer */
    bcl_session_state_t states[MAX_COOKIE_KEYS];
    bcl_identity_t ids[MAX_COOKIE_KEYS];      /* keys[i]'s binding when states[i] != UNBOUND */
    /* the expiring Set-Cookie values the guard added, to tell them from the app's */
    int n_expiry;
    const char *expiry_names[MAX_GUARDED_COOKIES * 2];
    const char *expiry_values[MAX_GUARDED_COOKIES * 2];
} guard_note_t;

/* The per-entry arrays must follow keys[] wherever its size goes. */
#define BCL_NOTE_LEN(field, type) (sizeof(((guard_note_t *)0)->field) / sizeof(type))
_Static_assert(BCL_NOTE_LEN(copies, int) == BCL_NOTE_LEN(keys, bcl_hkey_t)
               && BCL_NOTE_LEN(looked_up, int) == BCL_NOTE_LEN(keys, bcl_hkey_t)
               && BCL_NOTE_LEN(cut_only, int) == BCL_NOTE_LEN(keys, bcl_hkey_t)
               && BCL_NOTE_LEN(states, bcl_session_state_t) == BCL_NOTE_LEN(keys, bcl_hkey_t)
               && BCL_NOTE_LEN(ids, bcl_identity_t) == BCL_NOTE_LEN(keys, bcl_hkey_t)
               && BCL_NOTE_LEN(names, const char *) == BCL_NOTE_LEN(keys, bcl_hkey_t),
               "guard_note_t: every per-entry array has one slot per key");

static inline const bcl_runtime_t *guard_runtime(request_rec *r)
{
    bcl_server_conf_t *sc = ap_get_module_config(r->server->module_config, &backchannel_logout_module);
    return sc->rt != NULL && sc->rt->store != NULL ? sc->rt : NULL;
}

/* The keys, with the child's hasher (bcl_hasher.h): the same keys as
 * bcl_hkey_*, which serve where there is none (never in a child). */
static inline int key_cookie(const bcl_runtime_t *rt, bcl_hkey_t *out, const char *name, const char *v, apr_size_t len)
{
    return rt->hasher ? bcl_hasher_cookie(rt->hasher, out, name, v, len) : bcl_hkey_cookie(out, name, v, len);
}

static inline int key_sid(const bcl_runtime_t *rt, bcl_hkey_t *out, const char *iss, const char *sid)
{
    return rt->hasher ? bcl_hasher_sid(rt->hasher, out, iss, sid) : bcl_hkey_sid(out, iss, sid);
}

static inline int key_sub(const bcl_runtime_t *rt, bcl_hkey_t *out, const char *iss, const char *sub)
{
    return rt->hasher ? bcl_hasher_sub(rt->hasher, out, iss, sub) : bcl_hkey_sub(out, iss, sub);
}

static inline int key_iss(const bcl_runtime_t *rt, bcl_hkey_t *out, const char *iss)
{
    return rt->hasher ? bcl_hasher_iss(rt->hasher, out, iss) : bcl_hkey_iss(out, iss);
}

#endif
