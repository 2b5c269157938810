/* mpi.h — one run over many processes with MPI (docs/scaling.md).
 *
 * `mpirun -np N ratchet run ...`: rank 0 runs the engine and owns the store, the archive and the
 * gate; ranks 1..N-1 are remote job slots (engine.h's rt_remote). Rank 0 sends a worker an
 * island's self-contained job (the parent's and inspirations' canonical texts, the operator, the
 * island's generator); the worker proposes a child, evaluates it when the problem has an
 * evaluator, and sends back the child's canonical text and its claim. Rank 0 decodes the child
 * and takes it through its own duplicate check, verification and gate, as for a local child:
 * nothing enters the archive on a worker's word.
 *
 * Faults: every MPI call returns its error (MPI_ERRORS_RETURN) and every reply has a deadline.
 * A worker that fails or misses its deadline is *lost*: the run stops as after a run of
 * failures (a `lost` event, the checkpoint commits, exit 1) and may be resumed, with any number
 * of ranks. See docs/scaling.md for why the run does not go on without it.
 *
 * Without Open MPI at build time (RT_HAVE_MPI undefined) rt_mpi_launched is 0 and the rest
 * fails with a message saying so.
 */
#ifndef RT_MPI_MPI_H
#define RT_MPI_MPI_H

#include "ratchet.h" /* the functions: rt_mpi_launched, _start, _worker, _attach, _finish */

#endif
