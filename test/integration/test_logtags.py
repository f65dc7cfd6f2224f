"""The log-tag registry (src/core/bcl_logtags.h) and the operator's list of
tags (docs/receiver.md) name the same tags, and no C source outside the
registry spells a tag as a literal: a tag added, renamed or dropped in one
place and not the other fails here."""
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REGISTRY = os.path.join(ROOT, "src", "core", "bcl_logtags.h")
DOC = os.path.join(ROOT, "docs", "receiver.md")
DEFINE = re.compile(r'^#define\s+(BCL_TAG_\w+)\s+"(BCL\d{4})"', re.M)


def registry():
    with open(REGISTRY) as f:
        pairs = DEFINE.findall(f.read())
    return pairs


def documented():
    with open(DOC) as f:
        text = f.read()
    start = text.index("Every tag the module defines")
    tags = set()
    for line in text[start:].splitlines()[1:]:
        if tags and not line.startswith("|"):
            break
        m = re.match(r"^\| `(BCL\d{4})` \|", line)
        if m:
            tags.add(m.group(1))
    return tags


def test_registry_parses_and_has_no_duplicate():
    pairs = registry()
    assert len(pairs) > 50
    names = [n for n, _ in pairs]
    tags = [t for _, t in pairs]
    assert len(set(names)) == len(names)
    dup = sorted({t for t in tags if tags.count(t) > 1})
    assert dup == [], "a tag number given two names: %s" % dup


def test_every_registered_tag_is_documented_and_every_documented_tag_registered():
    reg = {t for _, t in registry()}
    doc = documented()
    assert sorted(reg - doc) == [], "tags in bcl_logtags.h missing from docs/receiver.md"
    assert sorted(doc - reg) == [], "tags in docs/receiver.md missing from bcl_logtags.h"


def test_no_tag_literal_outside_the_registry():
    literal = re.compile(r'"[^"\n]*\bBCL\d{4}\b')
    found = []
    for top in ("src", "tools"):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                path = os.path.join(d, name)
                if not name.endswith((".c", ".h")) or path == REGISTRY:
                    continue
                with open(path) as f:
                    for n, line in enumerate(f, 1):
                        code = line.split("//")[0]
                        if code.lstrip().startswith(("/*", "*")):
                            continue
                        if literal.search(code):
                            found.append("%s:%d" % (os.path.relpath(path, ROOT), n))
    assert found == [], "tag literals outside bcl_logtags.h: %s" % found
