/*
 * The committer thread (see committer.h): one job slot under a mutex, a condition for
 * each direction.
 */
#include "ingest/committer.h"

#include <pthread.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/xmalloc.h"

struct committer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t job_cv, done_cv;
	int has_job, done, quit;
	struct store *st;
	struct store_batch *b;
	struct store_checkpoint ck;
	struct commit_result result;
};

static void run_job(struct committer *c)
{
	struct commit_result *r = &c->result;

	r->err[0] = '\0';
	r->rc = 0;
	if (store_commit(c->st, c->b, &c->ck, &r->counts, r->err, sizeof(r->err)) != 0)
		r->rc = store_is_down(c->st) ? -1 : -2;
}

static void *committer_main(void *arg)
{
	struct committer *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->has_job && !c->quit)
			pthread_cond_wait(&c->job_cv, &c->mu);
		if (c->quit)
			break;
		pthread_mutex_unlock(&c->mu);
		run_job(c);
		pthread_mutex_lock(&c->mu);
		c->has_job = 0;
		c->done = 1;
		pthread_cond_signal(&c->done_cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

struct committer *committer_start(void)
{
	struct committer *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->job_cv, NULL);
	pthread_cond_init(&c->done_cv, NULL);
	if (pthread_create(&c->thread, NULL, committer_main, c) != 0)
		fatal("pthread_create");
	return c;
}

void committer_stop(struct committer *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->quit = 1;
	pthread_cond_signal(&c->job_cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->job_cv);
	pthread_cond_destroy(&c->done_cv);
	free(c);
}

void committer_submit(struct committer *c, struct store *st, struct store_batch *b,
		      const struct store_checkpoint *ck)
{
	pthread_mutex_lock(&c->mu);
	c->st = st;
	c->b = b;
	c->ck = *ck;
	c->has_job = 1;
	c->done = 0;
	pthread_cond_signal(&c->job_cv);
	pthread_mutex_unlock(&c->mu);
}

int committer_collect(struct committer *c, int wait, struct commit_result *r)
{
	int done;

	pthread_mutex_lock(&c->mu);
	while (wait && !c->done)
		pthread_cond_wait(&c->done_cv, &c->mu);
	done = c->done;
	if (done) {
		*r = c->result;
		c->done = 0;
	}
	pthread_mutex_unlock(&c->mu);
	return done;
}
