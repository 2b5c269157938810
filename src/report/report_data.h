/* report_data.h — what the HTML report shows, gathered from a store into one JSON object
 * (report_data.c); report.c wraps it in the page. Downsampled so that the page stays small
 * for any store: curves in RT_REPORT_BINS time bins and tenths of the run, each island's best
 * curve in at most RT_REPORT_STEPS points; the lineage tree and the top candidates in full,
 * their texts within RT_REPORT_TEXT_BUDGET bytes. */
#ifndef RT_REPORT_DATA_H
#define RT_REPORT_DATA_H

#include <jansson.h>

#include "ratchet.h"

#define RT_REPORT_BINS 200
#define RT_REPORT_STEPS 1000
#define RT_REPORT_TOP 10
#define RT_REPORT_LINEAGE_NODES 20000
#define RT_REPORT_TEXT_BUDGET ((size_t)2500000)

/* Builds the report's data into *out (a new object, the caller's). Returns 0 or an RT_E* code
 * with the store's message saying why. info, when not NULL, is filled in (but bytes). */
int rt_report_data(rt_store *store, json_t **out, rt_report_info *info);

#endif
