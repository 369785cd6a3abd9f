/* Time for the daemons and the tool: a monotonic clock for intervals and deadlines, the
 * wall clock for timestamps, and a plain millisecond sleep. */
#ifndef CITYLINK_CLOCK_H
#define CITYLINK_CLOCK_H

#include <stdint.h>
#include <time.h>

int64_t clock_mono_ms(void);  /* CLOCK_MONOTONIC: never jumps; for timeouts */
int64_t clock_wall_ms(void);  /* UTC milliseconds since the epoch; for records and logs */
void clock_sleep_ms(int ms);
/* *ts = CLOCK_MONOTONIC now + ms, for pthread_cond_timedwait on a condition variable
 * made with pthread_condattr_setclock(CLOCK_MONOTONIC) (a wall-clock step moves no wait). */
void clock_deadline_mono(struct timespec *ts, int64_t ms);

#endif
