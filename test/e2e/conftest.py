"""Fixtures of the end-to-end suite: one stack (OP, apps, httpd) per test
module, and a fresh user (own cookie jar, own OP session) per test."""
import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import stack as stack_mod  # noqa: E402


def start_stack(clients, **kw):
    s = stack_mod.Stack(clients, **kw)
    s.start()
    return s


@pytest.fixture
def user():
    """A login name of its own: a `sub` logout in one test must not end the
    sessions of another test's user."""
    return "user-" + uuid.uuid4().hex[:10]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, append the stack's logs (httpd, OP, apps) to the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        st = getattr(item, "funcargs", {}).get("stack")
        if st is not None and hasattr(st, "diagnostics"):
            rep.sections.append(("stack logs", st.diagnostics()))
