"""A strict parser of the Prometheus text exposition format 0.0.4, for the
status handler's tests. It refuses what a real scraper would, and a few
things it would tolerate but that this module promises not to do: a sample
without a TYPE, a family declared twice, a duplicated series.

    fams = parse(text)        # name -> Family(type, help, samples)
    value(fams, "bcl_tokens_refused_total", reason="aud")
"""
import math
import re

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
_SAMPLE = re.compile(r"^(%s)(\{.*\})? ([^ ]+)( -?[0-9]+)?$" % NAME)
_LABEL_PAIR = re.compile(r'(%s)="((?:[^"\\\n]|\\[\\"n])*)"' % LABEL)


class Family:
    def __init__(self, name):
        self.name = name
        self.type = None
        self.help = None
        self.samples = {}   # frozenset(labels.items()) -> float


def _unescape(v):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), v)


def _labels(text, line):
    if not text:
        return {}
    inner = text[1:-1]
    labels = {}
    pos = 0
    while pos < len(inner):
        m = _LABEL_PAIR.match(inner, pos)
        if not m:
            raise ValueError("bad labels in %r" % line)
        if m.group(1) in labels:
            raise ValueError("label %s twice in %r" % (m.group(1), line))
        labels[m.group(1)] = _unescape(m.group(2))
        pos = m.end()
        if pos < len(inner):
            if inner[pos] != ",":
                raise ValueError("bad label separator in %r" % line)
            pos += 1
    return labels


def _value(s, line):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.match(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$", s):
        raise ValueError("bad value in %r" % line)
    return float(s)


def parse(text):
    if not text.endswith("\n"):
        raise ValueError("exposition must end with a newline")
    fams = {}
    seen_samples_of = set()
    for line in text.split("\n")[:-1]:
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not re.match("^%s$" % NAME, name):
                    raise ValueError("bad metric name in %r" % line)
                fam = fams.setdefault(name, Family(name))
                if name in seen_samples_of:
                    raise ValueError("%s after samples of %s" % (parts[1], name))
                if parts[1] == "TYPE":
                    if fam.type is not None:
                        raise ValueError("TYPE of %s twice" % name)
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise ValueError("bad TYPE line %r" % line)
                    fam.type = parts[3]
                else:
                    if fam.help is not None:
                        raise ValueError("HELP of %s twice" % name)
                    fam.help = parts[3] if len(parts) == 4 else ""
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError("bad sample line %r" % line)
        name = m.group(1)
        fam = fams.get(name)
        if fam is None or fam.type is None:
            raise ValueError("sample of %s without a TYPE before it" % name)
        seen_samples_of.add(name)
        labels = _labels(m.group(2), line)
        key = frozenset(labels.items())
        if key in fam.samples:
            raise ValueError("series %s%r twice" % (name, labels))
        v = _value(m.group(3), line)
        if fam.type == "counter" and (v < 0 or math.isnan(v)):
            raise ValueError("negative counter in %r" % line)
        fam.samples[key] = v
    for name, fam in fams.items():
        if fam.type is None:
            raise ValueError("%s has HELP but no TYPE" % name)
        if fam.type == "counter" and not name.endswith("_total"):
            raise ValueError("counter %s does not end in _total" % name)
    return fams


def value(fams, name, **labels):
    """The value of one series (AssertionError naming what exists when absent)."""
    fam = fams.get(name)
    assert fam is not None, "no metric family %s" % name
    key = frozenset(labels.items())
    assert key in fam.samples, "no series %s%r; have %r" % (
        name, labels, [dict(k) for k in fam.samples])
    return fam.samples[key]


def revocations_by_channel(session, status_url):
    """The status page's revocations by channel (JSON), after checking that
    the Prometheus format says the same for each channel."""
    r = session.get(status_url, params={"format": "json"}, timeout=10)
    assert r.status_code == 200, r.text
    j = r.json()["revocations"]
    fams = parse(session.get(status_url, timeout=10).text)
    for ch in ("backchannel", "frontchannel", "admin"):
        assert value(fams, "bcl_revocations_total", channel=ch) == j[ch], (ch, j)
    return j
