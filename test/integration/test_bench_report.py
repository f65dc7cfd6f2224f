"""The benchmark's report and its CI checker (bench/lib/report.py,
bench/check_report.py), on results shaped like a real run's: the targets
table says met/missed and by how much, a store the module refuses is
reported as not measured (never with numbers), and the checker accepts a
complete report and refuses one without numbers. No speed is asserted.

    /usr/bin/python3 -m pytest -q test/integration/test_bench_report.py
"""
import copy
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "bench", "lib"))
sys.path.insert(0, os.path.join(REPO, "bench"))

import check_report  # noqa: E402
import report  # noqa: E402


def side(rps, p50, p99, cpu):
    return {"rps": rps, "rps_each": [rps], "p50_us": p50, "p99_us": p99, "cpu_us_per_req": cpu,
            "p99_each": [p99 - 5, p99 + 5], "cpu_each": [cpu - 0.25, cpu + 0.25],
            "requests": int(rps * 5), "non_2xx": 0, "socket_errors": 0, "cpu_notes": []}


def path_row(off, on):
    return {"off": off, "on": on, "rps_ratio": on["rps"] / off["rps"],
            "cpu_added_us": on["cpu_us_per_req"] - off["cpu_us_per_req"],
            "p50_added_us": on["p50_us"] - off["p50_us"], "p99_added_us": on["p99_us"] - off["p99_us"]}


def level(bindings, revocations, cpu_added):
    mem = {"processes": 3, "parent_rss_kb": 9000, "max_child_rss_kb": 12000,
           "pss_total_kb": 150000, "rss_total_kb": 170000}
    return {"bindings": bindings, "revocations": revocations, "memory": mem,
            "fill": {"bindings": {"count": bindings, "seconds": 1.0}},
            "paths": {"direct": path_row(side(10000, 500, 2000, 50.0), side(9900, 505, 2010, 50.0 + cpu_added)),
                      "proxy": path_row(side(5000, 900, 3000, 80.0), side(4950, 905, 3015, 80.0 + cpu_added))}}


def receiver_row(alg, rps, cpu, vs=None):
    r = {"alg": alg, "connections": 16, "ok_rps": rps, "rps": rps, "p50_us": 900, "p99_us": 5000,
         "cpu_us_per_req": cpu, "duration_s": 5, "err_status": 0, "errors": 0, "replays": 0,
         "accepted_logged": int(rps * 5), "ok": int(rps * 5), "httpd_cpu_s": cpu * rps * 5 / 1e6}
    if vs is not None:
        r["vs_trivial"] = vs
        r["cpu_us_per_logout"] = cpu
    return r


@pytest.fixture
def data():
    levels = [level(0, 0, 1.5), level(10000, 100000, 1.5), level(1000000, 100000, 1.8)]
    return {
        "stamp": "20260101T000000Z", "mode": "full", "elapsed_s": 600,
        "config": {"warmup": 1, "reps": 2, "duration": 5, "connections": 16, "revocations": 100000,
                   "receiver_conns": [2, 16], "fills": [0, 10000, 1000000], "mpms": ["event"],
                   "stores": ["shm", "memcache"], "mutex": ""},
        "machine": {"cpu": "Test CPU", "cores": 2, "kernel": "6.1", "os": "Debian 12", "memory_mb": 4096,
                    "loadavg_at_start": "0.1 0.1 0.1", "loadavg_at_end": "1.0 1.0 1.0"},
        "versions": {"httpd": "Apache/2.4", "openssl": "OpenSSL 3", "cjose": "0.6.2.1", "jansson": "2.14",
                     "wrk": "wrk 4.1.0", "module": "abc123", "python": "3.11"},
        "store_versions": {},
        "guard": [
            {"mpm": "event", "store": "shm", "store_line": "BCLStore shm capacity=1210000",
             "capacity": 1210000, "shm_capacity": 1210000, "shm_bytes": 121000128, "levels": levels},
            {"mpm": "event", "store": "memcache", "store_line": "BCLStore memcache 127.0.0.1:1",
             "capacity": 0, "levels": [],
             "refused": "BCLStore memcache is not available in this version of the module; use shm"},
        ],
        "receiver": [receiver_row("trivial POST (mod_reflector)", 14000, 80.0),
                     receiver_row("RS256", 6000, 120.0, vs=6000 / 14000),
                     receiver_row("ES256", 5000, 150.0, vs=5000 / 14000),
                     receiver_row("HS256", 8000, 90.0, vs=8000 / 14000)],
        "openssl_speed": {"command": "openssl speed -seconds 3 rsa2048 ecdsap256",
                          "rsa2048": {"sign": 1000.0, "verify": 40000.0},
                          "ecdsap256": {"sign": 30000.0, "verify": 12000.0}},
        "notes": [],
    }


def write(tmp_path, text):
    p = tmp_path / "report.md"
    p.write_text(text)
    return str(p)


def test_targets_say_met_or_missed_by_how_much(data):
    text = report.render(data)
    rows = {r[0]: r for r in report.targets(data)}
    cpu = rows["Guard: httpd CPU added per request"]
    assert cpu[2] == ("worst 1.8 us (event, direct, 1M bindings); mean of 6 rows 1.6 us; "
                      "repeat-to-repeat noise 0.5 us"), cpu
    assert cpu[3] == "**met** (0.4 us under the limit) (mean); worst: **met** (0.2 us under the limit)", cpu
    loss = rows["Guard: requests/s lost (any MPM, path, fill)"]
    assert loss[3].startswith("**met**"), loss
    recv = rows["Receiver: RS256 logouts/s vs trivial POST/s"]
    assert recv[2].startswith("43%"), recv
    assert recv[3] == "**missed** by 7 points", recv
    cpu_logout = rows["Receiver: httpd CPU per RS256 logout"]
    assert cpu_logout[3] == "**missed** by 20 us", cpu_logout
    assert ("| Guard: p99 added at 1M bindings (shm) | <= 20 us | worst 15 us (event, proxy); "
            "repeat-to-repeat noise 10.0 us | **met**") in text
    flat = rows["Guard: cost flat as the store grows (mean CPU added, all MPMs and paths)"]
    assert flat[2] == "0: 1.5 us; 10k: 1.5 us; 1M: 1.8 us; repeat-to-repeat noise 0.5 us", flat
    assert flat[3].startswith("**flat**: 10k -> 1M bindings changes it by +0.3 us"), flat


def test_growth_beyond_noise_is_reported(data):
    for path in data["guard"][0]["levels"][2]["paths"].values():
        path["cpu_added_us"] += 5.0
    flat = {r[0]: r for r in report.targets(data)}[
        "Guard: cost flat as the store grows (mean CPU added, all MPMs and paths)"]
    assert flat[3].startswith("**grows** by 5.3 us from 10k to 1M bindings"), flat


def test_a_refused_store_is_reported_as_not_measured(data, tmp_path):
    text = report.render(data)
    assert "not measured: this build has no memcache store" in text
    section = text[text.index("## Guard overhead, `BCLStore memcache`"):]
    section = section[:section.index("\n## ", 5)]
    assert "req/s" not in section, section
    assert check_report.check(write(tmp_path, text)) == []


def test_memory_per_binding_and_revocation(data):
    text = report.render(data)
    assert "100.0 bytes per record of capacity" in text
    assert "A binding is one record: 100 bytes" in text
    assert "then one: 200 bytes, then 100" in text


def test_checker_accepts_a_complete_report_from_the_command_line(data, tmp_path):
    path = write(tmp_path, report.render(data))
    p = subprocess.run([sys.executable, os.path.join(REPO, "bench", "check_report.py"), path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert p.returncode == 0, p.stdout.decode()
    assert b"numbers measured" in p.stdout


def test_checker_refuses_a_report_without_numbers(data, tmp_path):
    broken = copy.deepcopy(data)
    for lv in broken["guard"][0]["levels"]:
        for row in lv["paths"].values():
            row["on"]["rps"] = 0.0
    problems = check_report.check(write(tmp_path, report.render(broken)))
    assert any("req/s on" in p for p in problems), problems


def test_checker_refuses_a_report_without_receiver_rows(data, tmp_path):
    broken = copy.deepcopy(data)
    broken["receiver"] = []
    problems = check_report.check(write(tmp_path, report.render(broken)))
    assert problems, "a report without receiver numbers passed"


def test_checker_refuses_a_missing_file(tmp_path):
    p = subprocess.run([sys.executable, os.path.join(REPO, "bench", "check_report.py"),
                        str(tmp_path / "nothing.md")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert p.returncode == 1
    assert b"does not exist" in p.stdout


def test_docs_page_points_to_the_source_report(data):
    page = report.docs_page(report.render(data), "bench/results/20260101T000000Z.md")
    assert page.startswith("# Benchmarks\n")
    assert "bash bench/run.sh" in page
    assert "bench/results/20260101T000000Z.md" in page
    assert "\n## Machine\n" not in page and "\n### Machine\n" in page


def test_docs_page_keeps_the_counts_and_operations_sections(data):
    old = ("# Benchmarks\n\nintro\n\n%s\n## Deterministic counts\nC1\n%s\n\n"
           "%s\n## Operations: status scrape cost and guard latency during a logout burst\nO1\n%s\n\n"
           "Run 2025 (full run)\n" % (report.COUNTS_BEGIN, report.COUNTS_END, report.OPS_BEGIN, report.OPS_END))
    page = report.docs_page(report.render(data), "bench/results/20260101T000000Z.md", old)
    assert "\nC1\n" in page and "\nO1\n" in page and "Run 2025" not in page
    assert page.index("\nC1\n") < page.index("\nO1\n") < page.index("\n### Machine\n")
    assert "bash bench/run.sh --scrape" in page and "bash bench/run.sh --burst" in page


def test_a_busy_machine_is_said_so(data):
    text = report.render(data)
    assert "The machine was busy" not in text
    data["machine"]["loadavg_at_end"] = "9.5 2.0 1.0"   # the benchmark's own load: no note
    assert "The machine was busy" not in report.render(data)
    data["machine"]["loadavg_at_start"] = "3.5 2.0 1.0"
    text = report.render(data)
    assert "The machine was busy with other work when the run started (1-minute load average 3.5 on 2 cores)" in text


def test_lock_trace_counts_only_syncs_made_while_the_thread_holds_the_lock(tmp_path):
    """bench --burst's strace reading: a sync by the thread that holds the
    store's lock counts (and its hold is measured), one by another thread
    while the lock is held elsewhere does not; split (unfinished/resumed)
    calls are followed."""
    import burst_bench
    trace = tmp_path / "trace.txt"
    trace.write_text(
        "10 100.000000 fcntl(8, F_SETLKW, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=0}) = 0 <0.000010>\n"
        "11 100.000100 fdatasync(20 <unfinished ...>\n"
        "10 100.000200 fsync(22)       = 0 <0.004000>\n"
        "11 100.000700 <... fdatasync resumed>) = 0 <0.000600>\n"
        "10 100.005010 fcntl(8, F_SETLKW, {l_type=F_UNLCK, l_whence=SEEK_SET, l_start=0, l_len=0}) = 0 <0.000010>\n"
        "11 100.006000 fcntl(8, F_SETLKW, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=0} <unfinished ...>\n"
        "11 100.006500 <... fcntl resumed>) = 0 <0.000500>\n"
        "11 100.006600 fcntl(8, F_SETLKW, {l_type=F_UNLCK, l_whence=SEEK_SET, l_start=0, l_len=0}) = 0 <0.000010>\n"
        "11 100.007000 fdatasync(20)   = 0 <0.000700>\n")
    res = burst_bench.parse_lock_trace(str(trace))
    assert res["syncs"] == {"fdatasync": 2, "fsync": 1}
    assert res["syncs_under_lock"] == {"fsync": 1}
    assert res["locks"] == 2
    assert res["sync_hold_ms"] == [5.0]
    assert res["holds_over_1ms"] == 1
