/* Why a back-channel request or logout token was refused. Each reason has a
 * stable code: it starts the error_description the OP sees, names the
 * counter in the status output, and appears in the log. Never renumber:
 * append. */
#ifndef BCL_REASON_H
#define BCL_REASON_H

typedef enum {
    BCL_OK = 0,
    /* the HTTP request */
    BCL_R_METHOD,            /* not POST */
    BCL_R_CONTENT_TYPE,      /* not application/x-www-form-urlencoded */
    BCL_R_TOO_LARGE,         /* body over BCLMaxTokenSize */
    BCL_R_BODY,              /* body could not be read */
    BCL_R_NO_TOKEN,          /* no logout_token parameter (or empty) */
    BCL_R_DUPLICATE_TOKEN,   /* logout_token more than once */
    BCL_R_FORM,              /* bad percent-encoding */
    /* the JOSE envelope */
    BCL_R_MALFORMED,         /* not a compact JWS/JWE, bad base64url */
    BCL_R_HEADER,            /* header is not a JSON object / bad member types */
    BCL_R_ALG,               /* alg missing, none, unknown, or not allowed */
    BCL_R_TYP,               /* typ present with a value not allowed */
    BCL_R_CRIT,              /* crit names a parameter we do not understand */
    BCL_R_UNKNOWN_KID,       /* kid names no configured key at all */
    BCL_R_NO_KEY,            /* no configured key fits alg (also: the kid's key is of another type) */
    BCL_R_SIGNATURE,         /* signature does not verify */
    BCL_R_ENCRYPTION_REQUIRED, /* BCLRequireEncryption On and token not a JWE */
    BCL_R_DECRYPT,           /* JWE could not be decrypted */
    BCL_R_PAYLOAD,           /* payload is not a JSON object / duplicate members */
    /* the claims */
    BCL_R_ISS,
    BCL_R_AUD,
    BCL_R_AZP,
    BCL_R_IAT,
    BCL_R_EXP,
    BCL_R_JTI,
    BCL_R_SUB_SID,           /* neither sub nor sid (or wrong type) */
    BCL_R_SID_REQUIRED,      /* BCLRequireSid On and no sid */
    BCL_R_EVENTS,
    BCL_R_NONCE,
    /* server side */
    BCL_R_INTERNAL,
    BCL_R_COUNT
} bcl_reason_t;

/* Stable short code, e.g. "aud" or "signature". */
const char *bcl_reason_code(bcl_reason_t r);
/* Default human description of the check, e.g. "audience does not contain a configured client_id". */
const char *bcl_reason_text(bcl_reason_t r);

#endif
