/* Crash test for src/store/: a child opens the store and makes Puts from
 * several threads (blocking and async), writing each key to a pipe only
 * after its Put was acknowledged. The parent SIGKILLs the child at a random
 * moment, reopens the store and checks that LMDB opens cleanly, the tree
 * is walkable, and every acknowledged key holds its value. Several rounds
 * share one directory, so later rounds also recover from earlier crashes.
 *
 * usage: recovery_store_crash [seed]   (or env SOUPC_CRASH_SEED)
 * Exit 0 on success; on failure prints the seed to replay. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "base/alloc.h"
#include "store/store.h"

#define ROUNDS 6
#define WRITERS 8
#define ASYNC_WRITERS 2 /* the last two writers use put_async */
#define ASYNC_WINDOW 32 /* in-flight async Puts per async writer */

/* What the child tells the parent about one acknowledged Put; 12 bytes, so
 * each write(2) to the pipe is atomic (< PIPE_BUF). */
struct ack_rec {
  uint32_t round;
  uint32_t writer;
  uint32_t seq;
};

static int ack_fd = -1; /* child: pipe write end */

/* Key for (round, writer, seq); writers 3 and 7 use keys > 400 bytes so
 * the hashed form is crash-tested too. @return length. */
static size_t make_key(char *buf, size_t cap, const struct ack_rec *r) {
  int n = snprintf(buf, cap, "r%u-w%u-s%u", r->round, r->writer, r->seq);
  size_t len = (size_t)n;

  if (r->writer % 4 == 3) {
    while (len < 600 && len + 1 < cap) {
      buf[len] = (char)('a' + len % 26);
      len++;
    }
    buf[len] = '\0';
  }
  return len;
}

/* Deterministic value for a key: 0..4999 bytes (some empty, some spanning
 * LMDB overflow pages). @return length. */
static size_t make_value(uint8_t *buf, const struct ack_rec *r) {
  uint32_t h = r->round * 2654435761u ^ r->writer * 40503u ^ r->seq * 97u;
  size_t len = (r->seq % 17 == 0) ? 0 : (h % 5000);
  size_t i;

  for (i = 0; i < len; i++) {
    h = h * 1103515245u + 12345u;
    buf[i] = (uint8_t)(h >> 16);
  }
  return len;
}

static void report_ack(const struct ack_rec *r) {
  if (write(ack_fd, r, sizeof(*r)) != (ssize_t)sizeof(*r)) {
    _exit(4); /* parent gone */
  }
}

struct writer {
  struct store *store;
  uint32_t round;
  uint32_t id;
  sem_t window; /* async writers only */
};

struct async_put {
  struct writer *w;
  struct ack_rec rec;
};

static void async_done(int rv, void *user_data) {
  struct async_put *p = user_data;

  if (rv != 0) {
    _exit(5);
  }
  /* The done() fired: the Put is committed, so now it may be reported. */
  report_ack(&p->rec);
  sem_post(&p->w->window);
  free(p);
}

static void *writer_main(void *arg) {
  struct writer *w = arg;
  static _Thread_local uint8_t val[5000];
  char key[700];
  struct ack_rec rec;
  struct async_put *p;
  size_t klen, vlen;
  int async = w->id >= WRITERS - ASYNC_WRITERS;

  rec.round = w->round;
  rec.writer = w->id;
  for (rec.seq = 0;; rec.seq++) {
    klen = make_key(key, sizeof(key), &rec);
    vlen = make_value(val, &rec);
    if (!async) {
      if (soupc__store_put(w->store, (const uint8_t *)key, klen, val, vlen) !=
          0) {
        _exit(6);
      }
      report_ack(&rec);
      continue;
    }
    sem_wait(&w->window);
    p = malloc(sizeof(*p));
    if (p == NULL) {
      _exit(7);
    }
    p->w = w;
    p->rec = rec;
    if (soupc__store_put_async(w->store, (const uint8_t *)key, klen, val, vlen,
                               async_done, p) != 0) {
      _exit(8);
    }
  }
  return NULL;
}

/* The child: writes until killed. */
static void child_main(const char *dir, uint32_t round, enum store_sync sync) {
  struct writer ws[WRITERS];
  struct store_options opts;
  pthread_t th[WRITERS];
  soupc_status status;
  struct store *st;
  uint32_t i;

  memset(&opts, 0, sizeof(opts));
  opts.sync = sync;
  if (soupc__store_open(&st, dir, &opts, &status) != 0) {
    fprintf(stderr, "child: open: %s\n", status.message);
    _exit(2);
  }
  for (i = 0; i < WRITERS; i++) {
    ws[i].store = st;
    ws[i].round = round;
    ws[i].id = i;
    sem_init(&ws[i].window, 0, ASYNC_WINDOW);
    if (pthread_create(&th[i], NULL, writer_main, &ws[i]) != 0) {
      _exit(3);
    }
  }
  for (;;) {
    pause(); /* until SIGKILL */
  }
}

struct acks {
  struct ack_rec *v;
  size_t n, cap;
};

static int acks_push(struct acks *a, const struct ack_rec *r) {
  struct ack_rec *nv;

  if (a->n == a->cap) {
    a->cap = a->cap ? a->cap * 2 : 1024;
    nv = realloc(a->v, a->cap * sizeof(*nv));
    if (nv == NULL) {
      return -1;
    }
    a->v = nv;
  }
  a->v[a->n++] = *r;
  return 0;
}

/* Reads whole records from @p fd into @p a; keeps a partial record in
 * @p part. @return 0 on EOF, 1 if more may come, -1 on error. */
static int drain(int fd, struct acks *a, uint8_t *part, size_t *part_len) {
  uint8_t buf[4096];
  ssize_t n;
  size_t i;

  n = read(fd, buf, sizeof(buf));
  if (n == 0) {
    return 0;
  }
  if (n < 0) {
    return errno == EAGAIN || errno == EINTR ? 1 : -1;
  }
  for (i = 0; i < (size_t)n; i++) {
    part[(*part_len)++] = buf[i];
    if (*part_len == sizeof(struct ack_rec)) {
      struct ack_rec r;
      memcpy(&r, part, sizeof(r));
      if (acks_push(a, &r) != 0) {
        return -1;
      }
      *part_len = 0;
    }
  }
  return 1;
}

static double now_ms(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Walks the whole LMDB tree with a raw cursor: a torn tree would fail or
 * crash here. @return entries, or -1. */
static long walk_lmdb(const char *dir) {
  MDB_env *env = NULL;
  MDB_txn *txn = NULL;
  MDB_cursor *cur = NULL;
  MDB_dbi dbi;
  MDB_val k, d;
  long n = -1;
  int rv;

  rv = mdb_env_create(&env);
  if (rv == 0) {
    rv = mdb_env_set_mapsize(env, (size_t)64 << 30);
  }
  if (rv == 0) {
    rv = mdb_env_open(env, dir, MDB_RDONLY, 0600);
  }
  if (rv == 0) {
    rv = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
  }
  if (rv == 0) {
    rv = mdb_dbi_open(txn, NULL, 0, &dbi);
  }
  if (rv == 0) {
    rv = mdb_cursor_open(txn, dbi, &cur);
  }
  if (rv == 0) {
    n = 0;
    for (;;) {
      rv = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
      if (rv != 0) {
        break;
      }
      n++;
    }
    if (rv != MDB_NOTFOUND) {
      fprintf(stderr, "walk: %s\n", mdb_strerror(rv));
      n = -1;
    }
    mdb_cursor_close(cur);
  } else {
    fprintf(stderr, "walk: %s\n", mdb_strerror(rv));
  }
  if (txn != NULL) {
    mdb_txn_abort(txn);
  }
  mdb_env_close(env);
  return n;
}

/* Reopens the store and checks every acknowledged Put. @return failures. */
static long verify(const char *dir, const struct acks *a) {
  static uint8_t want[5000];
  soupc_status status;
  struct store *st;
  char key[700];
  uint8_t *got;
  size_t klen, wlen, glen, i;
  long bad = 0;
  int rv;

  rv = soupc__store_open(&st, dir, NULL, &status);
  if (rv != 0) {
    fprintf(stderr, "reopen failed: %s\n", status.message);
    return 1;
  }
  for (i = 0; i < a->n; i++) {
    klen = make_key(key, sizeof(key), &a->v[i]);
    wlen = make_value(want, &a->v[i]);
    rv = soupc__store_get(st, &got, &glen, (const uint8_t *)key, klen);
    if (rv != 0) {
      if (bad++ < 5) {
        fprintf(stderr, "acked key r%u-w%u-s%u: %s\n", a->v[i].round,
                a->v[i].writer, a->v[i].seq, soupc_strerror(rv));
      }
      continue;
    }
    if (glen != wlen || (wlen > 0 && memcmp(got, want, wlen) != 0)) {
      if (bad++ < 5) {
        fprintf(stderr, "acked key r%u-w%u-s%u: wrong value\n", a->v[i].round,
                a->v[i].writer, a->v[i].seq);
      }
    }
    soupc__free(got);
  }
  soupc__store_close(st);
  return bad;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

int main(int argc, char **argv) {
  struct acks acks = {NULL, 0, 0};
  uint8_t part[sizeof(struct ack_rec)];
  size_t part_len;
  char dir[256];
  const char *tmp, *seed_env;
  unsigned seed;
  double deadline, kill_after;
  struct pollfd pfd;
  int fds[2], wstatus, more, round, failed = 0;
  size_t before;
  long bad, entries;
  pid_t pid;

  seed_env = getenv("SOUPC_CRASH_SEED");
  if (argc > 1) {
    seed = (unsigned)strtoul(argv[1], NULL, 10);
  } else if (seed_env != NULL && seed_env[0] != '\0') {
    seed = (unsigned)strtoul(seed_env, NULL, 10);
  } else {
    seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  }
  srand(seed);
  signal(SIGPIPE, SIG_IGN);
  tmp = getenv("TMPDIR");
  snprintf(dir, sizeof(dir), "%s/soupc-crash.XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  printf("crash test: seed %u, dir %s\n", seed, dir);

  for (round = 0; round < ROUNDS && !failed; round++) {
    /* Mostly durable Puts; every third round with sync none, which must
     * survive a process kill too (only an OS crash may lose its commits). */
    enum store_sync sync = round % 3 == 2 ? STORE_SYNC_NONE : STORE_SYNC_FULL;

    if (pipe(fds) != 0) {
      perror("pipe");
      return 1;
    }
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
      perror("fork");
      return 1;
    }
    if (pid == 0) {
      close(fds[0]);
      ack_fd = fds[1];
      child_main(dir, (uint32_t)round, sync);
      _exit(0);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    before = acks.n;
    part_len = 0;

    /* Kill 0..400 ms after the first ack: mid-commit, mid-fsync, between
     * batches, wherever it lands. */
    kill_after = (double)(rand() % 400);
    deadline = -1;
    pfd.fd = fds[0];
    pfd.events = POLLIN;
    more = 1;
    while (more) {
      if (deadline < 0 && acks.n > before) {
        deadline = now_ms() + kill_after;
      }
      if (deadline >= 0 && now_ms() >= deadline) {
        break;
      }
      if (poll(&pfd, 1, 10) > 0) {
        more = drain(fds[0], &acks, part, &part_len);
      }
    }
    kill(pid, SIGKILL);
    waitpid(pid, &wstatus, 0);
    /* Everything the child wrote before it died is still in the pipe. */
    fcntl(fds[0], F_SETFL, 0);
    while (drain(fds[0], &acks, part, &part_len) > 0) {
    }
    close(fds[0]);
    if (!WIFSIGNALED(wstatus) || WTERMSIG(wstatus) != SIGKILL) {
      fprintf(stderr, "round %d: child exited early (status %d)\n", round,
              wstatus);
      failed = 1;
      break;
    }

    entries = walk_lmdb(dir);
    bad = verify(dir, &acks);
    printf("round %d (%s): killed after %.0f ms, %zu acked this round, "
           "%zu total, %ld entries in LMDB, %ld missing or wrong\n",
           round, sync == STORE_SYNC_FULL ? "full" : "none", kill_after,
           acks.n - before, acks.n, entries, bad);
    if (entries < 0 || bad != 0 || (size_t)entries < acks.n) {
      failed = 1;
    }
  }
  nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(acks.v);
  if (failed) {
    fprintf(stderr, "FAILED; replay with: recovery_store_crash %u\n", seed);
    return 1;
  }
  printf("ok\n");
  return 0;
}
