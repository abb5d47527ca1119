/* store_bench: durable Put throughput of src/store/ with 1 and 100 writer
 * threads, sync full and none, next to the raw fsync rate of the same disk.
 * Group commit should put "full, 100 writers" well above the fsync rate.
 *
 * usage: store_bench [dir] [seconds-per-run]
 * dir defaults to a fresh directory under $TMPDIR (or /tmp), removed at the
 * end; seconds default to 2. Prints a table; never decides pass/fail. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "store/store.h"

#define VALUE_BYTES 128
#define MAX_WRITERS 100

struct run {
  struct store *store;
  atomic_int stop;
  atomic_uint_fast64_t puts;
  atomic_int errors;
  int id_base;
};

struct writer {
  struct run *run;
  int id;
};

static double now_s(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *writer_main(void *arg) {
  struct writer *w = arg;
  uint8_t val[VALUE_BYTES];
  char key[64];
  unsigned long n = 0;
  int klen;

  memset(val, 'v', sizeof(val));
  while (!atomic_load(&w->run->stop)) {
    klen = snprintf(key, sizeof(key), "bench-%d-%lu", w->id, n++);
    if (soupc__store_put(w->run->store, (const uint8_t *)key, (size_t)klen, val,
                         sizeof(val)) != 0) {
      atomic_fetch_add(&w->run->errors, 1);
      break;
    }
    atomic_fetch_add(&w->run->puts, 1);
  }
  return NULL;
}

/* @return 0 and prints one table row. */
static int bench_puts(const char *dir, enum store_sync sync, int writers,
                      double secs) {
  struct store_options opts;
  struct store_stats stats;
  struct writer ws[MAX_WRITERS];
  pthread_t th[MAX_WRITERS];
  soupc_status status;
  struct run run;
  double t0, t1;
  uint64_t n_puts;
  int i;

  memset(&opts, 0, sizeof(opts));
  memset(&run, 0, sizeof(run));
  opts.sync = sync;
  if (soupc__store_open(&run.store, dir, &opts, &status) != 0) {
    fprintf(stderr, "store_bench: %s\n", status.message);
    return 1;
  }
  t0 = now_s();
  for (i = 0; i < writers; i++) {
    ws[i].run = &run;
    ws[i].id = (int)sync * 1000 + writers * 10000 + i;
    pthread_create(&th[i], NULL, writer_main, &ws[i]);
  }
  usleep((useconds_t)(secs * 1e6));
  atomic_store(&run.stop, 1);
  for (i = 0; i < writers; i++) {
    pthread_join(th[i], NULL);
  }
  t1 = now_s();
  n_puts = atomic_load(&run.puts);
  soupc__store_stats(run.store, &stats);
  soupc__store_close(run.store);
  printf("%-5s %8d %12.0f %10.1f %14.1f %7d\n",
         sync == STORE_SYNC_FULL ? "full" : "none", writers,
         (double)n_puts / (t1 - t0),
         stats.commits ? (double)stats.puts / (double)stats.commits : 0.0,
         (double)stats.commits / (t1 - t0), atomic_load(&run.errors));
  return 0;
}

/* fsync (or fdatasync) after a 4 KiB pwrite, in a loop for @p secs. */
static double sync_rate(const char *dir, int data_only, double secs) {
  char path[4096];
  char buf[4096];
  double t0, t;
  long n = 0;
  int fd;

  snprintf(path, sizeof(path), "%s/fsync-probe", dir);
  fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
  if (fd < 0) {
    fprintf(stderr, "store_bench: %s: %s\n", path, strerror(errno));
    return 0;
  }
  memset(buf, 'x', sizeof(buf));
  t0 = now_s();
  t = t0;
  do {
    if (pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
        (data_only ? fdatasync(fd) : fsync(fd)) != 0) {
      break;
    }
    n++;
    t = now_s();
  } while (t - t0 < secs);
  close(fd);
  unlink(path);
  return t > t0 ? (double)n / (t - t0) : 0.0;
}

static void remove_store(const char *dir) {
  char path[4096];

  snprintf(path, sizeof(path), "%s/data.mdb", dir);
  unlink(path);
  snprintf(path, sizeof(path), "%s/lock.mdb", dir);
  unlink(path);
}

int main(int argc, char **argv) {
  static const int writer_counts[] = {1, 100};
  char tmpl[4096];
  const char *dir;
  const char *tmp;
  double secs = 2.0;
  int made = 0;
  int s, i, rv = 0;

  if (argc > 1 &&
      (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf("Usage: store_bench [DIR [SECONDS]]\n\n"
           "Durable and non-durable Put throughput of the LMDB store with 1 "
           "and 100\nwriter threads, and the disk's raw fsync rate, in DIR "
           "(default: a new\ndirectory under $TMPDIR), SECONDS per run "
           "(default 2).\n");
    return 0;
  }
  if (argc > 2) {
    secs = strtod(argv[2], NULL);
    if (secs <= 0) {
      secs = 2.0;
    }
  }
  if (argc > 1) {
    dir = argv[1];
  } else {
    tmp = getenv("TMPDIR");
    snprintf(tmpl, sizeof(tmpl), "%s/store_bench.XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    dir = mkdtemp(tmpl);
    if (dir == NULL) {
      perror("store_bench: mkdtemp");
      return 1;
    }
    made = 1;
  }
  printf("store_bench in %s, %.1f s per run, %d-byte values\n\n", dir, secs,
         VALUE_BYTES);
  printf("raw fsync rate     (4 KiB pwrite+fsync):     %8.0f /s\n",
         sync_rate(dir, 0, 1.0));
  printf("raw fdatasync rate (4 KiB pwrite+fdatasync): %8.0f /s\n\n",
         sync_rate(dir, 1, 1.0));
  printf("%-5s %8s %12s %10s %14s %7s\n", "sync", "writers", "puts/s",
         "puts/txn", "commits/s", "errors");
  for (s = 0; s < 2 && rv == 0; s++) {
    for (i = 0; i < 2 && rv == 0; i++) {
      remove_store(dir);
      rv = bench_puts(dir, s == 0 ? STORE_SYNC_FULL : STORE_SYNC_NONE,
                      writer_counts[i], secs);
    }
  }
  remove_store(dir);
  if (made) {
    rmdir(dir);
  }
  return rv;
}
