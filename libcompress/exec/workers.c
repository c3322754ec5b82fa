/* lc_run_workers: the spawn-and-join helper behind lc_sgemm and the
 * threaded kernels (Conv). */
#include <pthread.h>

#include "lc_exec.h"

void lc_run_workers(int threads, void *(*worker)(void *), void *job)
{
    pthread_t tid[LC_MAX_WORKERS];
    int started = 0;
    if (threads > LC_MAX_WORKERS) threads = LC_MAX_WORKERS;
    for (; started < threads - 1; started++)
        if (pthread_create(&tid[started], NULL, worker, job) != 0) break;
    worker(job);
    for (int i = 0; i < started; i++) pthread_join(tid[i], NULL);
}
