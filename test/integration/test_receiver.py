"""The receiver (SetHandler backchannel-logout) against a real httpd:
OpenID Foundation conformance cases, HTTP behaviour, and claim validation
(docs/receiver.md). JOSE envelope, algorithm, key and JWE cases are in
test_receiver_jose.py."""
import time

import pytest

import harness
import tokens
from conftest import CLIENT_ID, CLIENT_ID2, ISSUER, SECRET
from tokens import LOGOUT_EVENT, REMOVE

REQUEST_TAGS = (harness.LOG_REFUSED_REQUEST, harness.LOG_REFUSED_TOKEN)


# ---------------------------------------------------------------------------
# OpenID Foundation RP back-channel logout conformance cases
# ---------------------------------------------------------------------------

class TestOIDFConformance:
    def test_valid_token_extra_claim_and_extra_param(self, receiver):
        tok = receiver.token(extra_unknown_claim={"x": [1, 2]})
        r = receiver.accept("/main", tok, extra={"state": "ignored", "foo": "bar"})
        assert r.status_code == 200

    def test_alg_none(self, receiver):
        c = receiver.claims()
        tok = tokens.raw_sign({"alg": "none", "typ": "logout+jwt"}, c)
        assert tok.endswith(".")
        receiver.refuse("/main", tok, "alg")

    def test_no_events(self, receiver):
        receiver.refuse("/main", receiver.token(events=REMOVE), "events")

    def test_with_nonce(self, receiver):
        receiver.refuse("/main", receiver.token(nonce="n-0S6_WzA2Mj"), "nonce")

    def test_wrong_alg(self, receiver, op_keys):
        # ES256, signed with a key that IS in the JWKS, where only RS256 is allowed
        tok = tokens.sign(receiver.claims(), "ES256", key=op_keys.p256)
        receiver.refuse("/rs256", tok, "alg")

    def test_wrong_aud(self, receiver):
        receiver.refuse("/main", receiver.token(aud="some-other-client"), "aud")

    def test_wrong_event_member(self, receiver):
        ev = {"http://schemas.openid.net/event/backchannel-logout-wrong": {}}
        receiver.refuse("/main", receiver.token(events=ev), "events")

    def test_wrong_iss(self, receiver):
        receiver.refuse("/main", receiver.token(iss="https://evil.example.test/"), "iss")


# ---------------------------------------------------------------------------
# HTTP behaviour
# ---------------------------------------------------------------------------

class TestHTTP:
    def test_valid_token_sub_and_sid(self, receiver):
        tok = receiver.token()
        r = receiver.accept("/main", tok)
        assert tok not in r.text and SECRET not in r.text

    def test_accept_log_line_fields(self, receiver):
        c = receiver.claims(sub="alice-42", sid="sid-xyz-42")
        mark = receiver.httpd.log_mark()
        receiver.accept("/main", receiver.token(payload=c))
        line = receiver.httpd.wait_log(harness.LOG_ACCEPTED, c["jti"], since=mark)
        for v in (ISSUER, "alice-42", "sid-xyz-42", c["jti"]):
            assert v in line, line

    def test_replay_still_200(self, receiver):
        tok = receiver.token()
        receiver.accept("/main", tok)
        r = receiver.post("/main", tok)
        harness.assert_ok(r)

    @pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
    def test_other_methods_405(self, receiver, method):
        mark = receiver.httpd.log_mark()
        r = receiver.session.request(method, receiver.url("/main"),
                                     data="logout_token=x.y.z",
                                     headers={"Content-Type": harness.FORM}, timeout=10)
        harness.assert_error(r, "method", status=405)
        allow = [m.strip() for m in r.headers.get("Allow", "").split(",")]
        assert "POST" in allow, r.headers
        receiver.check_refusal_log(mark, "method", harness.LOG_REFUSED_REQUEST)

    def test_head_405(self, receiver):
        r = receiver.session.head(receiver.url("/main"), timeout=10)
        assert r.status_code == 405
        assert "POST" in r.headers.get("Allow", "")

    @pytest.mark.parametrize("ctype", ["text/plain", "application/json",
                                       "multipart/form-data; boundary=xyz",
                                       "application/x-www-form-urlencodedx"])
    def test_wrong_content_type(self, receiver, ctype):
        tok = receiver.token()
        mark = receiver.httpd.log_mark()
        r = receiver.post("/main", tok, content_type=ctype)
        harness.assert_error(r, "content_type", secrets=(tok, SECRET))
        receiver.check_refusal_log(mark, "content_type", harness.LOG_REFUSED_REQUEST)

    def test_missing_content_type(self, receiver):
        tok = receiver.token()
        mark = receiver.httpd.log_mark()
        r = receiver.post_raw("/main", "logout_token=" + tok, content_type=None)
        assert "Content-Type" not in r.request.headers
        harness.assert_error(r, "content_type", secrets=(tok, SECRET))
        receiver.check_refusal_log(mark, "content_type", harness.LOG_REFUSED_REQUEST)

    @pytest.mark.parametrize("ctype", ["application/x-www-form-urlencoded; charset=UTF-8",
                                       "application/x-www-form-urlencoded;charset=utf-8",
                                       "Application/X-WWW-Form-URLEncoded"])
    def test_content_type_variants_accepted(self, receiver, ctype):
        receiver.accept("/main", receiver.token(), content_type=ctype)

    def test_empty_body(self, receiver):
        mark = receiver.httpd.log_mark()
        r = receiver.post_raw("/main", b"")
        harness.assert_error(r, "no_token")
        receiver.check_refusal_log(mark, "no_token", REQUEST_TAGS)

    def test_missing_token_param(self, receiver):
        mark = receiver.httpd.log_mark()
        r = receiver.post_raw("/main", "state=abc&foo=bar")
        harness.assert_error(r, "no_token")
        receiver.check_refusal_log(mark, "no_token", REQUEST_TAGS)

    def test_empty_token_param(self, receiver):
        r = receiver.post_raw("/main", "logout_token=")
        harness.assert_error(r, "no_token")

    def test_duplicate_token_param(self, receiver):
        tok = receiver.token()
        mark = receiver.httpd.log_mark()
        r = receiver.post_raw("/main", "logout_token=%s&logout_token=%s" % (tok, tok))
        harness.assert_error(r, "duplicate_token", secrets=(tok, SECRET))
        receiver.check_refusal_log(mark, "duplicate_token", REQUEST_TAGS)

    def test_duplicate_token_param_second_empty(self, receiver):
        tok = receiver.token()
        r = receiver.post_raw("/main", "logout_token=%s&logout_token=" % tok)
        harness.assert_error(r, "duplicate_token", secrets=(tok, SECRET))

    def test_bad_percent_encoding(self, receiver):
        mark = receiver.httpd.log_mark()
        r = receiver.post_raw("/main", "logout_token=abc%zz.def")
        harness.assert_error(r, "form")
        receiver.check_refusal_log(mark, "form", harness.LOG_REFUSED_REQUEST)

    def test_percent_encoded_token_accepted(self, receiver):
        tok = receiver.token()
        body = "logout_token=" + tok.replace(".", "%2E")
        r = receiver.post_raw("/main", body)
        harness.assert_ok(r)

    def test_token_param_not_first(self, receiver):
        tok = receiver.token()
        r = receiver.post_raw("/main", "a=1&logout_token=%s&b=2" % tok)
        harness.assert_ok(r)

    def test_oversized_body_default_limit(self, receiver):
        tok = receiver.token()
        body = "logout_token=%s&pad=%s" % (tok, "x" * 17000)
        mark = receiver.httpd.log_mark()
        r = receiver.post_raw("/main", body)
        harness.assert_error(r, "too_large", status=413, secrets=(tok, SECRET))
        receiver.check_refusal_log(mark, "too_large", harness.LOG_REFUSED_REQUEST)

    def test_oversized_chunked_body(self, receiver):
        def gen():
            yield b"logout_token="
            for _ in range(40):
                yield b"A" * 1000
        r = receiver.post_raw("/main", gen())
        assert r.request.headers.get("Transfer-Encoding") == "chunked"
        harness.assert_error(r, "too_large", status=413)

    def test_small_limit_valid_token_accepted(self, receiver):
        tok = receiver.token()
        assert len("logout_token=" + tok) < 1024
        receiver.accept("/small", tok)

    def test_small_limit_exact_boundary(self, receiver):
        tok = receiver.token()
        head = "logout_token=%s&pad=" % tok
        body = head + "p" * (1024 - len(head))
        assert len(body) == 1024
        harness.assert_ok(receiver.post_raw("/small", body))
        tok2 = receiver.token()
        head = "logout_token=%s&pad=" % tok2
        body = head + "p" * (1025 - len(head))
        r = receiver.post_raw("/small", body)
        harness.assert_error(r, "too_large", status=413, secrets=(tok2, SECRET))

    def test_small_limit_large_token(self, receiver):
        tok = receiver.token(padding_claim="z" * 1200)
        receiver.refuse("/small", tok, "too_large", status=413, tag=harness.LOG_REFUSED_REQUEST)

    def test_concurrent_requests(self, receiver):
        # event MPM threads verify in parallel; every answer stays right
        from concurrent.futures import ThreadPoolExecutor
        jobs = [(receiver.token(alg), None) for alg in ("RS256", "ES256", "EdDSA", "HS256")] * 6
        jobs += [(receiver.token("ES384", aud="x"), "aud")] * 8
        jobs += [(tokens.flip_signature(receiver.token("PS256")), "signature")] * 8

        def one(job):
            s = harness.client()
            return job, harness.post_token(s, receiver.url("/main"), job[0])

        with ThreadPoolExecutor(max_workers=8) as ex:
            for (tok, code), r in ex.map(one, jobs):
                if code is None:
                    harness.assert_ok(r)
                else:
                    harness.assert_error(r, code, secrets=(tok, SECRET))

    def test_keepalive_connection_reused(self, receiver):
        # several requests over one connection, success and failure mixed
        s = harness.client()
        for i in range(3):
            r = harness.post_token(s, receiver.url("/main"), receiver.token())
            harness.assert_ok(r)
            r = harness.post_token(s, receiver.url("/main"), receiver.token(aud="x"))
            harness.assert_error(r, "aud")


# ---------------------------------------------------------------------------
# Claims
# ---------------------------------------------------------------------------

class TestIss:
    @pytest.mark.parametrize("iss", [REMOVE, ISSUER + "/", ISSUER.upper(), "", 42,
                                     [ISSUER], None])
    def test_bad_iss(self, receiver, iss):
        receiver.refuse("/main", receiver.token(iss=iss), "iss")


class TestAudAzp:
    def test_aud_second_configured_client(self, receiver):
        receiver.accept("/main", receiver.token(aud=CLIENT_ID2))

    def test_aud_single_element_array(self, receiver):
        receiver.accept("/main", receiver.token(aud=[CLIENT_ID]))

    @pytest.mark.parametrize("aud", [REMOVE, "other", ["other", "another"], [], 7,
                                     CLIENT_ID.upper(), "", {"rp1": 1}])
    def test_bad_aud(self, receiver, aud):
        receiver.refuse("/main", receiver.token(aud=aud), "aud")

    def test_aud_array_several_without_azp(self, receiver):
        receiver.refuse("/main", receiver.token(aud=[CLIENT_ID, "other"]), "azp")

    def test_aud_array_several_with_azp(self, receiver):
        receiver.accept("/main", receiver.token(aud=[CLIENT_ID, "other"], azp=CLIENT_ID))

    def test_aud_array_several_with_foreign_azp(self, receiver):
        receiver.refuse("/main", receiver.token(aud=[CLIENT_ID, "other"], azp="other"), "azp")

    def test_aud_string_with_matching_azp(self, receiver):
        receiver.accept("/main", receiver.token(azp=CLIENT_ID))

    def test_aud_string_with_foreign_azp(self, receiver):
        receiver.refuse("/main", receiver.token(azp="evil-client"), "azp")

    def test_azp_not_a_string(self, receiver):
        receiver.refuse("/main", receiver.token(aud=[CLIENT_ID, "other"], azp=[CLIENT_ID]),
                        "azp")


class TestTimes:
    def test_iat_missing(self, receiver):
        receiver.refuse("/main", receiver.token(iat=REMOVE), "iat")

    def test_iat_in_the_future(self, receiver):
        receiver.refuse("/main", receiver.token(iat=int(time.time()) + 600), "iat")

    def test_iat_slightly_ahead_within_skew(self, receiver):
        receiver.accept("/main", receiver.token(iat=int(time.time()) + 30))

    @pytest.mark.parametrize("iat", [1e300, 1e19, 9.3e18, 2.0 ** 63])
    def test_iat_far_future_beyond_int64(self, receiver, iat):
        # a NumericDate too large for a 64-bit integer is still in the future
        receiver.refuse("/main", receiver.token(iat=iat), "iat")

    def test_iat_fractional(self, receiver):
        receiver.accept("/main", receiver.token(iat=time.time() - 0.5))

    @pytest.mark.parametrize("iat", ["1700000000", None, True, [1]])
    def test_iat_wrong_type(self, receiver, iat):
        receiver.refuse("/main", receiver.token(iat=iat), "iat")

    def test_exp_missing(self, receiver):
        receiver.refuse("/main", receiver.token(exp=REMOVE), "exp")

    def test_exp_past(self, receiver):
        now = int(time.time())
        receiver.refuse("/main", receiver.token(iat=now - 900, exp=now - 600), "exp")

    def test_exp_just_past_within_skew(self, receiver):
        now = int(time.time())
        receiver.accept("/main", receiver.token(iat=now - 150, exp=now - 30))

    @pytest.mark.parametrize("exp", ["9999999999", None, {}])
    def test_exp_wrong_type(self, receiver, exp):
        receiver.refuse("/main", receiver.token(exp=exp), "exp")

    def test_small_skew_iat_future(self, receiver):
        receiver.refuse("/skew", receiver.token(iat=int(time.time()) + 30), "iat")

    def test_small_skew_exp_past(self, receiver):
        now = int(time.time())
        receiver.refuse("/skew", receiver.token(iat=now - 150, exp=now - 30), "exp")

    def test_small_skew_valid(self, receiver):
        receiver.accept("/skew", receiver.token())


class TestRequireExpOff:
    def test_no_exp_fresh_iat(self, receiver):
        receiver.accept("/noexp", receiver.token(exp=REMOVE))

    def test_no_exp_iat_within_window(self, receiver):
        # 120 s + 60 s skew: 150 s old is still acceptable
        receiver.accept("/noexp", receiver.token(exp=REMOVE, iat=int(time.time()) - 150))

    def test_no_exp_iat_too_old(self, receiver):
        tok = receiver.token(exp=REMOVE, iat=int(time.time()) - 240)
        receiver.refuse("/noexp", tok, ("iat", "exp"))

    def test_exp_present_still_checked(self, receiver):
        now = int(time.time())
        receiver.refuse("/noexp", receiver.token(iat=now - 900, exp=now - 600), "exp")

    def test_valid_with_exp(self, receiver):
        receiver.accept("/noexp", receiver.token())

    def test_iat_still_required(self, receiver):
        receiver.refuse("/noexp", receiver.token(exp=REMOVE, iat=REMOVE), "iat")


class TestJti:
    @pytest.mark.parametrize("jti", [REMOVE, 12345, None, ["a"]])
    def test_bad_jti(self, receiver, jti):
        receiver.refuse("/main", receiver.token(jti=jti), "jti")


class TestSubSid:
    def test_sub_only(self, receiver):
        receiver.accept("/main", receiver.token(sid=REMOVE))

    def test_sid_only(self, receiver):
        receiver.accept("/main", receiver.token(sub=REMOVE))

    def test_neither(self, receiver):
        receiver.refuse("/main", receiver.token(sub=REMOVE, sid=REMOVE), "sub_sid")

    @pytest.mark.parametrize("field", ["sub", "sid"])
    def test_wrong_type(self, receiver, field):
        tok = receiver.token(**{field: 17, ("sid" if field == "sub" else "sub"): REMOVE})
        receiver.refuse("/main", tok, "sub_sid")

    def test_require_sid_without_sid(self, receiver):
        receiver.refuse("/sid", receiver.token(sid=REMOVE), "sid_required")

    def test_require_sid_with_sid(self, receiver):
        receiver.accept("/sid", receiver.token())

    def test_require_sid_sid_only(self, receiver):
        receiver.accept("/sid", receiver.token(sub=REMOVE))


class TestEvents:
    @pytest.mark.parametrize("events", [
        REMOVE,
        LOGOUT_EVENT,
        [LOGOUT_EVENT],
        {},
        {"http://schemas.openid.net/event/other": {}},
        {LOGOUT_EVENT: "yes"},
        {LOGOUT_EVENT: True},
        {LOGOUT_EVENT: None},
        {LOGOUT_EVENT: []},
        {LOGOUT_EVENT.upper(): {}},
    ], ids=["missing", "string", "array", "empty", "other-member", "member-string",
            "member-true", "member-null", "member-array", "member-case"])
    def test_bad_events(self, receiver, events):
        receiver.refuse("/main", receiver.token(events=events), "events")

    def test_events_with_extra_members(self, receiver):
        ev = {LOGOUT_EVENT: {"reason": "admin"}, "https://example.test/other": {}}
        receiver.accept("/main", receiver.token(events=ev))


class TestNonce:
    @pytest.mark.parametrize("nonce", ["abc", "", None, 0])
    def test_nonce_present(self, receiver, nonce):
        receiver.refuse("/main", receiver.token(nonce=nonce), "nonce")


def test_zz_log_never_holds_a_whole_token(receiver):
    """Runs last in this module: no token ever posted appears whole in the
    error log, nor does the client secret."""
    text = receiver.httpd.log_text()
    assert receiver.sent_tokens
    for tok in receiver.sent_tokens:
        assert tok not in text
    assert SECRET not in text
    assert harness.LOG_ACCEPTED in text and harness.LOG_REFUSED_TOKEN in text
