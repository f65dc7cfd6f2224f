#include <string.h>
#include <apr_strings.h>
#include <jansson.h>
#include "bcl_jwe.h"
#include "bcl_jws.h"
#include "bcl_token.h"

static const char *dup_string(apr_pool_t *p, json_t *claims, const char *name)
{
    json_t *s = json_object_get(claims, name);
    return json_is_string(s) ? apr_pstrdup(p, json_string_value(s)) : NULL;
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
static bcl_reason_t check_audience(json_t *claims, const bcl_policy_t *policy, bcl_verdict_t *v)
{
    json_t *aud = json_object_get(claims, "aud");
    json_t *azp = json_object_get(claims, "azp");
    size_t count = 1;
    int match = 0;

    if (json_is_string(aud)) {
        match = is_client_id(policy, json_string_value(aud));
    } else if (json_is_array(aud) && json_array_size(aud) > 0) {
        size_t i;
        json_t *a;
        count = json_array_size(aud);
        json_array_foreach(aud, i, a) {
            if (!json_is_string(a))
                return bcl_verdict_fail(v, BCL_R_AUD, "aud holds a value that is not a string");
            match |= is_client_id(policy, json_string_value(a));
        }
    } else {
        return bcl_verdict_fail(v, BCL_R_AUD, "aud is missing or not a string or array of strings");
    }
    if (!match)
        return bcl_verdict_fail(v, BCL_R_AUD, "aud does not contain a configured client_id");
    if (azp == NULL && count > 1)
        return bcl_verdict_fail(v, BCL_R_AZP, "aud has several audiences and azp is missing");
    if (azp != NULL && !is_client_id(policy, json_string_value(azp)))
        return bcl_verdict_fail(v, BCL_R_AZP, "azp is not a configured client_id");
    return BCL_OK;
}

/* A JSON number as whole seconds, or -1 when it is not a time at all
 * (negative, or too large for 64 bits: casting such a double is undefined). */
static int json_seconds(json_t *v, long long *out)
{
    double d = json_number_value(v);
    if (!json_is_number(v) || !(d >= 0.0 && d < 9.0e15))
        return -1;
    *out = (long long)d;
    return 0;
}

static bcl_reason_t check_times(apr_pool_t *p, json_t *claims, const bcl_policy_t *policy,
                                long long now, bcl_verdict_t *v)
{
    json_t *iat = json_object_get(claims, "iat");
    json_t *exp = json_object_get(claims, "exp");
    long long skew = policy->clock_skew;

    if (!json_is_number(iat))
        return bcl_verdict_fail(v, BCL_R_IAT, iat ? "iat is not a number" : "iat is missing");
    if (json_seconds(iat, &v->iat) != 0)
        return bcl_verdict_fail(v, BCL_R_IAT, "iat is not a valid time");
    if (v->iat > now + skew)
        return bcl_verdict_fail(v, BCL_R_IAT, apr_psprintf(p, "iat is %" APR_INT64_T_FMT " s in the future (allowed skew %" APR_INT64_T_FMT " s)",
                                               (apr_int64_t)(v->iat - now), (apr_int64_t)skew));
    if (exp != NULL) {
        if (!json_is_number(exp))
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

static bcl_reason_t check_subject(json_t *claims, const bcl_policy_t *policy, bcl_verdict_t *v)
{
    json_t *sub = json_object_get(claims, "sub");
    json_t *sid = json_object_get(claims, "sid");

    if ((sub != NULL && (!json_is_string(sub) || json_string_length(sub) == 0))
        || (sid != NULL && (!json_is_string(sid) || json_string_length(sid) == 0)))
        return bcl_verdict_fail(v, BCL_R_SUB_SID, "sub and sid must be non-empty strings");
    if (sub == NULL && sid == NULL)
        return bcl_verdict_fail(v, BCL_R_SUB_SID, "neither sub nor sid is present");
    if (policy->require_sid && sid == NULL)
        return bcl_verdict_fail(v, BCL_R_SID_REQUIRED, "sid is missing and BCLRequireSid is On");
    return BCL_OK;
}

static bcl_reason_t check_claims(apr_pool_t *p, json_t *claims, const bcl_policy_t *policy,
                                 long long now, bcl_verdict_t *v)
{
    json_t *iss = json_object_get(claims, "iss");
    json_t *jti = json_object_get(claims, "jti");
    json_t *events = json_object_get(claims, "events");
    bcl_reason_t r;

    if (!json_is_string(iss))
        return bcl_verdict_fail(v, BCL_R_ISS, iss ? "iss is not a string" : "iss is missing");
    if (policy->issuer == NULL || strcmp(json_string_value(iss), policy->issuer) != 0)
        return bcl_verdict_fail(v, BCL_R_ISS, "iss is not the configured issuer");
    if ((r = check_audience(claims, policy, v)) != BCL_OK)
        return r;
    if ((r = check_times(p, claims, policy, now, v)) != BCL_OK)
        return r;
    if (!json_is_string(jti) || json_string_length(jti) == 0)
        return bcl_verdict_fail(v, BCL_R_JTI, jti ? "jti is not a non-empty string" : "jti is missing");
    if ((r = check_subject(claims, policy, v)) != BCL_OK)
        return r;
    if (!json_is_object(events))
        return bcl_verdict_fail(v, BCL_R_EVENTS, events ? "events is not a JSON object" : "events is missing");
    if (!json_is_object(json_object_get(events, BCL_LOGOUT_EVENT)))
        return bcl_verdict_fail(v, BCL_R_EVENTS, "events lacks the member " BCL_LOGOUT_EVENT " with an object value");
    if (json_object_get(claims, "nonce") != NULL)
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
    json_error_t jerr;
    json_t *claims;
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

    claims = json_loadb(payload, payload_len, JSON_REJECT_DUPLICATES, &jerr);
    if (claims == NULL)
        return bcl_verdict_fail(v, BCL_R_PAYLOAD, "payload is not valid JSON or has duplicate members");
    if (!json_is_object(claims)) {
        json_decref(claims);
        return bcl_verdict_fail(v, BCL_R_PAYLOAD, "payload is not a JSON object");
    }
    v->iss = dup_string(p, claims, "iss");
    v->sub = dup_string(p, claims, "sub");
    v->sid = dup_string(p, claims, "sid");
    v->jti = dup_string(p, claims, "jti");
    r = check_claims(p, claims, policy, now, v);
    json_decref(claims);
    if (r == BCL_OK) {
        v->reason = BCL_OK;
        v->detail = NULL;
    }
    return r;
}
