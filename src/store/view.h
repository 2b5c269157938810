/* view.h — for src/audit/, whose files implement the public checks of a store (rt_store_audit,
 * rt_store_check and rt_store_drift in ratchet.h) over the view that store/view.c opens: the
 * view's handle, opened for reading (store/query.h reads it). Setting its error message
 * (rt_db_fail) sets the view's (rt_store_errmsg). */
#ifndef RT_STORE_VIEW_H
#define RT_STORE_VIEW_H

#include "ratchet.h"
#include "store/store.h"

rt_db *rt_store_db(rt_store *store);

#endif
