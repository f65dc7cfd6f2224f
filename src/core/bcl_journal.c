#include <string.h>
#include "bcl_journal.h"

static const unsigned char MAGIC[4] = { 'B', 'C', 'L', 'J' };

/* Four bits at a time: a 16-entry constant table instead of a 256-entry one
 * built at run time (no mutable global state). Reflected polynomial 0x82f63b78. */
static const uint32_t CRC32C_NIBBLE[16] = {
    0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1, 0x417b1dbc, 0x5125dad3, 0x61c69362, 0x7198540d,
    0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9, 0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75
};

uint32_t bcl_crc32c(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        crc = (crc >> 4) ^ CRC32C_NIBBLE[crc & 15];
        crc = (crc >> 4) ^ CRC32C_NIBBLE[crc & 15];
    }
    return ~crc;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void put64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

static int64_t get64(const unsigned char *p)
{
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--)
        u = (u << 8) | p[i];
    return (int64_t)u;
}

void bcl_journal_header(unsigned char out[BCL_JOURNAL_HEADER_SIZE])
{
    memset(out, 0, BCL_JOURNAL_HEADER_SIZE);
    memcpy(out, MAGIC, sizeof(MAGIC));
    put32(out + 4, BCL_JOURNAL_VERSION);
    put32(out + 8, BCL_JOURNAL_PAYLOAD_SIZE);
}

bcl_journal_header_status_t bcl_journal_header_check(const unsigned char *data, size_t len)
{
    unsigned char want[BCL_JOURNAL_HEADER_SIZE];
    bcl_journal_header(want);
    if (len < BCL_JOURNAL_HEADER_SIZE)
        return memcmp(data, want, len) == 0 ? BCL_JOURNAL_HEADER_SHORT : BCL_JOURNAL_HEADER_FOREIGN;
    return memcmp(data, want, BCL_JOURNAL_HEADER_SIZE) == 0 ? BCL_JOURNAL_HEADER_OK : BCL_JOURNAL_HEADER_FOREIGN;
}

/* The payload: the record's fields in a fixed order, independent of the
 * compiler's struct layout. */
static void encode_record(unsigned char *p, const bcl_record_t *rec)
{
    memcpy(p, rec->key.b, BCL_KEY_LEN);
    p[16] = rec->kind;
    memcpy(p + 17, rec->iss_fp, BCL_ISS_FP_LEN);   /* zero in journals written before cut-offs */
    put64(p + 24, rec->expires);
    put64(p + 32, rec->t_server);
    put64(p + 40, rec->t_op);
    memcpy(p + 48, rec->sid_key.b, BCL_KEY_LEN);
    memcpy(p + 64, rec->sub_key.b, BCL_KEY_LEN);
}

static void decode_record(const unsigned char *p, bcl_record_t *rec)
{
    memset(rec, 0, sizeof(*rec));
    memcpy(rec->key.b, p, BCL_KEY_LEN);
    rec->kind = p[16];
    memcpy(rec->iss_fp, p + 17, BCL_ISS_FP_LEN);
    rec->expires = get64(p + 24);
    rec->t_server = get64(p + 32);
    rec->t_op = get64(p + 40);
    memcpy(rec->sid_key.b, p + 48, BCL_KEY_LEN);
    memcpy(rec->sub_key.b, p + 64, BCL_KEY_LEN);
}

void bcl_journal_encode(unsigned char out[BCL_JOURNAL_FRAME_SIZE], const bcl_record_t *rec)
{
    put32(out, BCL_JOURNAL_PAYLOAD_SIZE);
    encode_record(out + 8, rec);
    /* the checksum covers the length too: a damaged length is caught */
    uint32_t crc = bcl_crc32c(0, out, 4);
    put32(out + 4, bcl_crc32c(crc, out + 8, BCL_JOURNAL_PAYLOAD_SIZE));
}

/* A whole valid frame starts at `p` (with `avail` bytes from there). */
static int frame_at(const unsigned char *p, size_t avail)
{
    if (avail < BCL_JOURNAL_FRAME_SIZE || get32(p) != BCL_JOURNAL_PAYLOAD_SIZE)
        return 0;
    uint32_t crc = bcl_crc32c(0, p, 4);
    if (get32(p + 4) != bcl_crc32c(crc, p + 8, BCL_JOURNAL_PAYLOAD_SIZE))
        return 0;
    return p[8 + 16] < BCL_REC_KINDS;
}

static void note_damage(bcl_journal_scan_t *out, uint64_t offset, uint64_t length)
{
    out->damaged_bytes += length;
    if (out->ndamage < BCL_JOURNAL_MAX_DAMAGE) {
        out->damage[out->ndamage].offset = offset;
        out->damage[out->ndamage].length = length;
        out->ndamage++;
    } else {
        out->more_damage = 1;
    }
}

void bcl_journal_scan(const unsigned char *data, size_t len, bcl_journal_entry_fn *fn, void *baton,
                      bcl_journal_scan_t *out)
{
    size_t off = BCL_JOURNAL_HEADER_SIZE;

    memset(out, 0, sizeof(*out));
    out->valid_end = len < off ? len : off;
    while (off < len) {
        if (frame_at(data + off, len - off)) {
            bcl_record_t rec;
            decode_record(data + 8 + off, &rec);
            fn(baton, &rec);
            out->frames++;
            off += BCL_JOURNAL_FRAME_SIZE;
            out->valid_end = off;
            continue;
        }
        /* Damage: resume where the next whole valid frame begins. A false
         * match needs a right length and a 32-bit checksum by chance. */
        size_t next = off + 1;
        while (next < len && !frame_at(data + next, len - next))
            next++;
        note_damage(out, off, next - off);
        off = next;
    }
}

typedef struct {
    bcl_table_t *t;
    int64_t now;
    bcl_journal_replay_t *r;
} replay_ctx_t;

static void replay_one(void *baton, const bcl_record_t *rec)
{
    replay_ctx_t *c = baton;

    if (rec->kind == BCL_REC_EMPTY) {
        bcl_table_remove(c->t, &rec->key);
        c->r->removed++;
    } else if (rec->expires <= c->now) {
        /* an expired later version also ends an earlier live one */
        bcl_table_remove(c->t, &rec->key);
        c->r->expired++;
    } else if (bcl_table_put(c->t, rec, c->now) == BCL_TABLE_OK) {
        c->r->applied++;
    } else {
        c->r->dropped_full++;
    }
}

void bcl_journal_replay(bcl_table_t *t, const unsigned char *data, size_t len, int64_t now,
                        bcl_journal_scan_t *scan, bcl_journal_replay_t *replay)
{
    replay_ctx_t c = { t, now, replay };
    memset(replay, 0, sizeof(*replay));
    bcl_journal_scan(data, len, replay_one, &c, scan);
}
