#include "bcl_store_shm.h"
#include <apr_global_mutex.h>
#include <apr_shm.h>
#include <http_log.h>
#include <util_mutex.h>
#include "bcl_logtags.h"
#include "mod_backchannel_logout.h"

/* What must outlive one configuration generation: plain data only. The
 * module's code may be unloaded and mapped elsewhere on restart, so no
 * function pointer is kept here. */
typedef struct {
    apr_shm_t *shm;
    apr_global_mutex_t *mutex;
    apr_uint32_t capacity;
} shm_state_t;

#define SHM_STATE_KEY "mod_backchannel_logout:shm-state"

apr_status_t bcl_store_shm_register(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, BCL_STORE_MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

static shm_state_t *shm_state(server_rec *s)
{
    void *data = NULL;
    apr_pool_userdata_get(&data, SHM_STATE_KEY, s->process->pool);
    return data;
}

static int shm_lock(void *baton)
{
    shm_state_t *st = baton;
    return apr_global_mutex_lock(st->mutex) == APR_SUCCESS ? 0 : -1;
}

static void shm_unlock(void *baton)
{
    shm_state_t *st = baton;
    apr_global_mutex_unlock(st->mutex);
}

apr_status_t bcl_store_shm_init(server_rec *s, apr_pool_t *pconf, apr_uint32_t capacity,
                                bcl_store_t **store)
{
    apr_pool_t *keep = s->process->pool;
    shm_state_t *st = shm_state(s);
    bcl_table_t *table = NULL;
    apr_status_t rv;

    if (st != NULL && st->capacity != capacity) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, BCL_TAG_STORE ": BCLStore capacity changed from %u to %u: "
                     "the new capacity takes effect at the next full restart; revocations are kept",
                     st->capacity, capacity);
    }
    if (st == NULL) {
        st = apr_pcalloc(keep, sizeof(*st));
        st->capacity = capacity;
        rv = apr_shm_create(&st->shm, bcl_table_size(capacity), NULL, keep);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, BCL_TAG_STORE ": cannot create %" APR_SIZE_T_FMT
                         " bytes of shared memory for BCLStore shm capacity=%u", bcl_table_size(capacity), capacity);
            return rv;
        }
        rv = ap_global_mutex_create(&st->mutex, NULL, BCL_STORE_MUTEX_TYPE, NULL, s, keep, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, BCL_TAG_STORE ": cannot create the store's global mutex");
            return rv;
        }
        table = bcl_table_init(apr_shm_baseaddr_get(st->shm), capacity);
        apr_pool_userdata_set(st, SHM_STATE_KEY, apr_pool_cleanup_null, keep);
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, BCL_TAG_STORE ": shared-memory store created: capacity %u records, %"
                     APR_SIZE_T_FMT " bytes", capacity, bcl_table_size(capacity));
    } else {
        table = bcl_table_attach(apr_shm_baseaddr_get(st->shm), apr_shm_size_get(st->shm));
        if (table == NULL) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, BCL_TAG_STORE ": the shared-memory store kept from the last "
                         "generation is damaged");
            return APR_EGENERAL;
        }
    }

    bcl_store_lock_t lock = { shm_lock, shm_unlock, st };
    *store = bcl_store_table_create(pconf, table, &lock);
    return APR_SUCCESS;
}

void bcl_store_shm_child_init(apr_pool_t *p, server_rec *s)
{
    shm_state_t *st = shm_state(s);
    if (st == NULL)
        return;
    apr_status_t rv = apr_global_mutex_child_init(&st->mutex, apr_global_mutex_lockfile(st->mutex), p);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, BCL_TAG_STORE ": cannot attach the store's mutex in a child");
}

void bcl_store_report_usage(request_rec *r, bcl_store_t *store)
{
    unsigned crossed = store->ops->usage_crossings(store);
    if (crossed & 1)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, BCL_TAG_STORE_USAGE ": the revocation store is 80%% full; "
                      "raise BCLStore shm capacity= before it refuses new records");
    if (crossed & 2)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, BCL_TAG_STORE_USAGE ": the revocation store is full: new "
                      "revocations are refused (503) until records expire or capacity is raised");
}
