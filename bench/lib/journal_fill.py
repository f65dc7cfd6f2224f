"""A store journal (docs/store.md, src/core/bcl_journal.h) of N binding
records with random keys, written directly: `bench --counts --counts-fill`
replays it into the counted httpd's table instead of binding N cookies
through HTTP (hours under callgrind, minutes without). The keys are random
like SHA-256 keys; the identities they name are never revoked."""
import os
import struct
import time

HEADER = b"BCLJ" + struct.pack("<III", 1, 80, 0)
KIND_BINDING = 3


def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    t = _TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def write(path, n, lifetime=86400):
    now = int(time.time())
    length = struct.pack("<I", 80)
    with open(path, "wb") as f:
        f.write(HEADER)
        rand = os.urandom(48 * n)
        for i in range(n):
            r = rand[48 * i:48 * i + 48]
            payload = (r[:16] + bytes([KIND_BINDING]) + bytes(7)
                       + struct.pack("<qqq", now + lifetime, now * 1000000, 0) + r[16:48])
            f.write(length + struct.pack("<I", crc32c(payload, crc32c(length))) + payload)
