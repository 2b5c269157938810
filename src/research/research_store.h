/* research_store.h — for src/research/: the research problem's state of a store's run. */
#ifndef RT_RESEARCH_STORE_H
#define RT_RESEARCH_STORE_H

#include "problems/research/research_int.h"
#include "ratchet.h"

/* Opens the problem of the store's run (*problem: the caller closes it) and points *st at its
 * state. RT_EUSAGE (the store's message says so) when the run is not of research. */
int rt_research_state_of(rt_store *store, rt_problem **problem, const research_state **st);

#endif
