#include "bcl_reason.h"

static const struct {
    const char *code;
    const char *text;
} reasons[BCL_R_COUNT] = {
    [BCL_OK]                    = { "ok", "logout token accepted" },
    [BCL_R_METHOD]              = { "method", "only POST is allowed" },
    [BCL_R_CONTENT_TYPE]        = { "content_type", "content type must be application/x-www-form-urlencoded" },
    [BCL_R_TOO_LARGE]           = { "too_large", "request body exceeds the configured maximum" },
    [BCL_R_BODY]                = { "body", "request body could not be read" },
    [BCL_R_NO_TOKEN]            = { "no_token", "no logout_token parameter" },
    [BCL_R_DUPLICATE_TOKEN]     = { "duplicate_token", "logout_token given more than once" },
    [BCL_R_FORM]                = { "form", "malformed form encoding" },
    [BCL_R_MALFORMED]           = { "malformed", "not a compact JWS or JWE" },
    [BCL_R_HEADER]              = { "header", "invalid JOSE header" },
    [BCL_R_ALG]                 = { "alg", "algorithm not allowed" },
    [BCL_R_TYP]                 = { "typ", "typ header not allowed" },
    [BCL_R_CRIT]                = { "crit", "critical header parameter not understood" },
    [BCL_R_UNKNOWN_KID]         = { "unknown_kid", "no configured key has this kid" },
    [BCL_R_NO_KEY]              = { "no_key", "no configured key fits the algorithm" },
    [BCL_R_SIGNATURE]           = { "signature", "signature does not verify" },
    [BCL_R_ENCRYPTION_REQUIRED] = { "encryption_required", "logout token must be encrypted" },
    [BCL_R_DECRYPT]             = { "decrypt", "encrypted logout token could not be decrypted" },
    [BCL_R_PAYLOAD]             = { "payload", "payload is not a JSON object" },
    [BCL_R_ISS]                 = { "iss", "issuer does not match" },
    [BCL_R_AUD]                 = { "aud", "audience does not contain a configured client_id" },
    [BCL_R_AZP]                 = { "azp", "authorized party does not match" },
    [BCL_R_IAT]                 = { "iat", "issued-at time missing or invalid" },
    [BCL_R_EXP]                 = { "exp", "expiration time missing, invalid or past" },
    [BCL_R_JTI]                 = { "jti", "jti missing or invalid" },
    [BCL_R_SUB_SID]             = { "sub_sid", "neither sub nor sid present" },
    [BCL_R_SID_REQUIRED]        = { "sid_required", "sid is required" },
    [BCL_R_EVENTS]              = { "events", "events claim missing or invalid" },
    [BCL_R_NONCE]               = { "nonce", "nonce is not allowed in a logout token" },
    [BCL_R_INTERNAL]            = { "internal", "internal error" },
};

const char *bcl_reason_code(bcl_reason_t r)
{
    return (unsigned)r < BCL_R_COUNT ? reasons[r].code : "unknown";
}

const char *bcl_reason_text(bcl_reason_t r)
{
    return (unsigned)r < BCL_R_COUNT ? reasons[r].text : "unknown";
}
