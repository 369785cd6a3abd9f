/* Shared by the benchmark's files: timing and the parts run from main. */
#ifndef CITYLINK_BENCH_H
#define CITYLINK_BENCH_H

typedef void (*op_fn)(void *arg);

/* Nanoseconds per call of fn, running for the configured time per measurement. */
double bench_measure(op_fn fn, void *arg);

/* Topic lookup with 10 and with 1,000 sources loaded: it must not grow with the count. */
void bench_topic_scale(void);

#endif
