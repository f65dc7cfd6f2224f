#include <string.h>
#include <apr_strings.h>
#include "bcl_json.h"
#include "bcl_jwe.h"
#include "bcl_jws.h"
#include "bcl_token.h"

/* The claims live in the request pool: no copy needed. */
static const char *claim_string(const bcl_json_t *claims, const char *name)
{
    const bcl_json_t *s = bcl_json_get(claims, name);
    return bcl_json_is_string(s) ? s->str : NULL;
}

static int is_client_id(const bcl_policy_t *policy, const char *s)
{
    for (int i = 0; s != NULL && i < policy->client_ids->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(policy->client_ids, i, const char *), s) == 0)
            return 1;
    }
    return 0;
}

/* aud holds one of our client IDs; with several audiences azp must name us
 * (OpenID Connect Core 3.1.3.7, applied to logout tokens by section 2.6). */
static bcl_reason_t check_audience(const bcl_json_t *claims, const bcl_policy_t *policy, bcl_verdict_t *v)
{
    const bcl_json_t *aud = bcl_json_get(claims, "aud");
    const bcl_json_t *azp = bcl_json_get(claims, "azp");
    int count = 1;
    int match = 0;

    if (bcl_json_is_string(aud)) {
        match = is_client_id(policy, aud->str);
    } else if (bcl_json_is_array(aud) && aud->n > 0) {
        count = aud->n;
        for (int i = 0; i < aud->n; i++) {
            const bcl_json_t *a = aud->items[i];
            if (!bcl_json_is_string(a))
                return bcl_verdict_fail(v, BCL_R_AUD, "aud holds a value that is not a string");
            match |= is_client_id(policy, a->str);
        }
    } else {
        return bcl_verdict_fail(v, BCL_R_AUD, "aud is missing or not a string or array of strings");
    }
    if (!match)
        return bcl_verdict_fail(v, BCL_R_AUD, "aud does not contain a configured client_id");
    if (azp == NULL && count > 1)
        return bcl_verdict_fail(v, BCL_R_AZP, "aud has several audiences and azp is missing");
    if (azp != NULL && !is_client_id(policy, bcl_json_is_string(azp) ? azp->str : NULL))
        return bcl_verdict_fail(v, BCL_R_AZP, "azp is not a configured client_id");
    return BCL_OK;
}

/* A JSON number as whole seconds, or -1 when it is not a time at all
 * (negative, or too large for 64 bits: casting such a double is undefined). */
static int json_seconds(const bcl_json_t *v, long long *out)
{
    double d = bcl_json_is_number(v) ? v->num : 0.0;
    if (!bcl_json_is_number(v) || !(d >= 0.0 && d < 9.0e15))
        return -1;
    *out = (long long)d;
    return 0;
}

static bcl_reason_t check_times(apr_pool_t *p, const bcl_json_t *claims, const bcl_policy_t *policy,
                                long long now, bcl_verdict_t *v)
{
    const bcl_json_t *iat = bcl_json_get(claims, "iat");
    const bcl_json_t *exp = bcl_json_get(claims, "exp");
    long long skew = policy->clock_skew;

    if (!bcl_json_is_number(iat))
        return bcl_verdict_fail(v, BCL_R_IAT, iat ? "iat is not a number" : "iat is missing");
    if (json_seconds(iat, &v->iat) != 0)
        return bcl_verdict_fail(v, BCL_R_IAT, "iat is not a valid time");
    if (v->iat > now + skew)
        return bcl_verdict_fail(v, BCL_R_IAT, apr_psprintf(p, "iat is %" APR_INT64_T_FMT " s in the future (allowed skew %" APR_INT64_T_FMT " s)",
                                               (apr_int64_t)(v->iat - now), (apr_int64_t)skew));
    if (exp != NULL) {
        if (!bcl_json_is_number(exp))
            return bcl_verdict_fail(v, BCL_R_EXP, "exp is not a number");
        if (json_seconds(exp, &v->exp) != 0)
            return bcl_verdict_fail(v, BCL_R_EXP, "exp is not a valid time");
        if (now > v->exp + skew)
            return bcl_verdict_fail(v, BCL_R_EXP, apr_psprintf(p, "token expired %" APR_INT64_T_FMT " s ago (allowed skew %" APR_INT64_T_FMT " s)",
                                                   (apr_int64_t)(now - v->exp), (apr_int64_t)skew));
        return BCL_OK;
    }
    if (policy->require_exp)
        return bcl_verdict_fail(v, BCL_R_EXP, "exp is missing (BCLRequireExp Off accepts fresh tokens without exp)");
    if (v->iat < now - BCL_NO_EXP_MAX_AGE - skew)
        return bcl_verdict_fail(v, BCL_R_EXP, apr_psprintf(p, "token without exp is %" APR_INT64_T_FMT " s old (at most %d s plus skew %" APR_INT64_T_FMT " s)",
                                               (apr_int64_t)(now - v->iat), BCL_NO_EXP_MAX_AGE, (apr_int64_t)skew));
    return BCL_OK;
}

static bcl_reason_t check_subject(const bcl_json_t *claims, const bcl_policy_t *policy, bcl_verdict_t *v)
{
    const bcl_json_t *sub = bcl_json_get(claims, "sub");
    const bcl_json_t *sid = bcl_json_get(claims, "sid");

    if ((sub != NULL && (!bcl_json_is_string(sub) || sub->len == 0))
        || (sid != NULL && (!bcl_json_is_string(sid) || sid->len == 0)))
        return bcl_verdict_fail(v, BCL_R_SUB_SID, "sub and sid must be non-empty strings");
    if (sub == NULL && sid == NULL)
        return bcl_verdict_fail(v, BCL_R_SUB_SID, "neither sub nor sid is present");
    if (policy->require_sid && sid == NULL)
        return bcl_verdict_fail(v, BCL_R_SID_REQUIRED, "sid is missing and BCLRequireSid is On");
    return BCL_OK;
}

static bcl_reason_t check_claims(apr_pool_t *p, const bcl_json_t *claims, const bcl_policy_t *policy,
                                 long long now, bcl_verdict_t *v)
{
    const bcl_json_t *iss = bcl_json_get(claims, "iss");
    const bcl_json_t *jti = bcl_json_get(claims, "jti");
    const bcl_json_t *events = bcl_json_get(claims, "events");
    bcl_reason_t r;

    if (!bcl_json_is_string(iss))
        return bcl_verdict_fail(v, BCL_R_ISS, iss ? "iss is not a string" : "iss is missing");
    if (policy->issuer == NULL || strcmp(iss->str, policy->issuer) != 0)
        return bcl_verdict_fail(v, BCL_R_ISS, "iss is not the configured issuer");
    if ((r = check_audience(claims, policy, v)) != BCL_OK)
        return r;
    if ((r = check_times(p, claims, policy, now, v)) != BCL_OK)
        return r;
    if (!bcl_json_is_string(jti) || jti->len == 0)
        return bcl_verdict_fail(v, BCL_R_JTI, jti ? "jti is not a non-empty string" : "jti is missing");
    if ((r = check_subject(claims, policy, v)) != BCL_OK)
        return r;
    if (!bcl_json_is_object(events))
        return bcl_verdict_fail(v, BCL_R_EVENTS, events ? "events is not a JSON object" : "events is missing");
    if (!bcl_json_is_object(bcl_json_get(events, BCL_LOGOUT_EVENT)))
        return bcl_verdict_fail(v, BCL_R_EVENTS, "events lacks the member " BCL_LOGOUT_EVENT " with an object value");
    if (bcl_json_get(claims, "nonce") != NULL)
        return bcl_verdict_fail(v, BCL_R_NONCE, "a logout token must not contain nonce");
    return BCL_OK;
}

static int count_dots(const char *s, apr_size_t len)
{
    int n = 0;
    for (apr_size_t i = 0; i < len; i++)
        n += s[i] == '.';
    return n;
}

bcl_reason_t bcl_token_validate(apr_pool_t *p, const char *token, apr_size_t len,
                                const bcl_keyset_t *keys, const bcl_policy_t *policy,
                                long long now, bcl_verdict_t *v)
{
    const char *jws = token, *payload;
    apr_size_t jws_len = len, payload_len;
    const char *jerr = NULL;
    const bcl_json_t *claims;
    bcl_reason_t r;

    memset(v, 0, sizeof(*v));
    switch (count_dots(token, len)) {
    case 4:
        v->encrypted = 1;
        if ((r = bcl_jwe_decrypt(p, token, len, keys, &jws, &jws_len, v)) != BCL_OK)
            return r;
        if (count_dots(jws, jws_len) != 2)
            return bcl_verdict_fail(v, BCL_R_MALFORMED, "the encrypted logout token does not contain a signed JWT");
        break;
    case 2:
        if (policy->require_encryption)
            return bcl_verdict_fail(v, BCL_R_ENCRYPTION_REQUIRED, "the logout token is signed but not encrypted (BCLRequireEncryption On)");
        break;
    default:
        return bcl_verdict_fail(v, BCL_R_MALFORMED, "not a compact JWS (three parts) or JWE (five parts)");
    }

    if ((r = bcl_jws_verify(p, jws, jws_len, keys, policy, &payload, &payload_len, v)) != BCL_OK)
        return r;

    claims = bcl_json_parse(p, payload, payload_len, &jerr);
    if (claims == NULL)
        return bcl_verdict_fail(v, BCL_R_PAYLOAD, "payload is not valid JSON or has duplicate members");
    if (!bcl_json_is_object(claims))
        return bcl_verdict_fail(v, BCL_R_PAYLOAD, "payload is not a JSON object");
    v->iss = claim_string(claims, "iss");
    v->sub = claim_string(claims, "sub");
    v->sid = claim_string(claims, "sid");
    v->jti = claim_string(claims, "jti");
    r = check_claims(p, claims, policy, now, v);
    if (r == BCL_OK) {
        v->reason = BCL_OK;
        v->detail = NULL;
    }
    return r;
}
