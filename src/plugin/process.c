/* Spawning, waiting for and killing a plugin process (host side,
 * go-plugin-protocol.md §6.2.3, §6.2.9). vfork+exec rather than
 * posix_spawn, because the child needs PR_SET_PDEATHSIG: a host that
 * crashes must not leave its plugins running. vfork rather than fork: no
 * page tables to copy and no copy-on-write faults in the host afterwards
 * (about 0.5 ms per launch). */
#include "plugin/plugin_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"

static int check_exe(const char *path) {
  struct stat sb;

  if (stat(path, &sb) != 0) {
    return SOUPC_ERR_NOT_FOUND;
  }
  if (!S_ISREG(sb.st_mode) || access(path, X_OK) != 0) {
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  return 0;
}

int soupc__process_resolve(char **out, const char *path, soupc_status *st) {
  const char *env_path, *p;
  char *cand = NULL;
  int rv = SOUPC_ERR_NOT_FOUND, r;

  if (path == NULL || path[0] == '\0') {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "plugin not found: no plugin path given");
    return SOUPC_ERR_NOT_FOUND;
  }
  if (strchr(path, '/') != NULL) {
    rv = check_exe(path);
    if (rv == 0) {
      cand = soupc__strdup(path);
      if (cand == NULL) {
        return SOUPC_ERR_NOMEM;
      }
    }
  } else {
    /* Like exec.Command / execvp: the first executable match in PATH wins;
     * a non-executable match is remembered for the message. */
    env_path = getenv("PATH");
    p = env_path == NULL ? "/usr/local/bin:/usr/bin:/bin" : env_path;
    while (p != NULL) {
      const char *colon = strchr(p, ':');
      size_t dlen = colon == NULL ? strlen(p) : (size_t)(colon - p);
      size_t cap = dlen + strlen(path) + 3;

      cand = soupc__malloc(cap);
      if (cand == NULL) {
        return SOUPC_ERR_NOMEM;
      }
      snprintf(cand, cap, "%.*s/%s", (int)dlen, dlen == 0 ? "." : p, path);
      if (dlen == 0) {
        snprintf(cand, cap, "./%s", path);
      }
      r = check_exe(cand);
      if (r == 0) {
        rv = 0;
        break;
      }
      if (r == SOUPC_ERR_INVALID_ARGUMENT) {
        rv = r;
      }
      soupc__free(cand);
      cand = NULL;
      p = colon == NULL ? NULL : colon + 1;
    }
  }
  if (rv == SOUPC_ERR_NOT_FOUND) {
    soupc_status_set(st, SOUPC_GRPC_NOT_FOUND, "plugin not found: %s", path);
  } else if (rv != 0) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "plugin is not executable: %s", path);
  } else {
    *out = cand;
  }
  return rv;
}

/* Runs in the vfork child, on the parent's memory, with every signal
 * blocked: async-signal-safe calls only, no writes outside this frame, and
 * it never returns. */
static void child(const char *exe, char *const *argv, char *const *envp,
                  int out_w, int err_w, int report_w, int keep_fd,
                  pid_t parent) {
  struct sigaction sa;
  sigset_t none;
  int devnull, sig, e;

  /* If the host dies, so does the plugin. The check closes the race with
   * a parent that died before prctl. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) {
    _exit(127);
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_DFL;
  for (sig = 1; sig < 32; sig++) {
    if (sig != SIGKILL && sig != SIGSTOP) {
      sigaction(sig, &sa, NULL);
    }
  }
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  devnull = open("/dev/null", O_RDONLY);
  if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 ||
      dup2(out_w, STDOUT_FILENO) < 0 || dup2(err_w, STDERR_FILENO) < 0) {
    goto fail;
  }
  /* Every other fd of ours has O_CLOEXEC, except what we just dup2'd and
   * the one the caller hands over. */
  if (devnull > STDERR_FILENO) {
    close(devnull);
  }
  if (keep_fd > STDERR_FILENO && fcntl(keep_fd, F_SETFD, 0) != 0) {
    goto fail;
  }
  execve(exe, argv, envp);
fail:
  e = errno;
  (void)!write(report_w, &e, sizeof(e));
  _exit(127);
}

int soupc__process_spawn(struct plugin_process *proc, const char *exe,
                         char *const *argv, char *const *envp, int keep_fd,
                         soupc_status *st) {
  int po[2] = {-1, -1}, pe[2] = {-1, -1}, pr[2] = {-1, -1};
  pid_t pid, parent = getpid();
  sigset_t all, old;
  ssize_t n;
  int err = 0, rv;

  memset(proc, 0, sizeof(*proc));
  proc->stdout_fd = proc->stderr_fd = -1;
  if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0 ||
      pipe2(pr, O_CLOEXEC) != 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "pipe: %s", strerror(errno));
    rv = SOUPC_ERR_IO;
    goto fail;
  }
  /* No handler of ours may run in the child (it shares our memory) before
   * it has reset the dispositions; it then unblocks everything. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  /* vfork is deliberate (see the top of this file); the child runs only
   * async-signal-safe calls on its own frame, then execs or _exits. */
  pid = vfork(); // NOLINT(clang-analyzer-security.insecureAPI.vfork)
  if (pid == 0) {
    // NOLINTNEXTLINE(clang-analyzer-unix.Vfork)
    child(exe, argv, envp, po[1], pe[1], pr[1], keep_fd, parent);
  }
  err = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    soupc_status_set(st, SOUPC_GRPC_INTERNAL, "fork: %s", strerror(err));
    rv = SOUPC_ERR_IO;
    goto fail;
  }
  err = 0;
  proc->pid = pid;
  close(po[1]);
  close(pe[1]);
  close(pr[1]);
  po[1] = pe[1] = pr[1] = -1;
  /* The report pipe closes on a successful exec (O_CLOEXEC); otherwise it
   * carries the child's errno. */
  do {
    n = read(pr[0], &err, sizeof(err));
  } while (n < 0 && errno == EINTR);
  close(pr[0]);
  pr[0] = -1;
  proc->stdout_fd = po[0];
  proc->stderr_fd = pe[0];
  po[0] = pe[0] = -1;
  if (n == (ssize_t)sizeof(err)) {
    soupc__process_kill(proc);
    if (err == ENOENT) {
      soupc_status_set(st, SOUPC_GRPC_NOT_FOUND, "plugin not found: %s", exe);
      return SOUPC_ERR_NOT_FOUND;
    }
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "plugin is not executable: %s (%s)", exe, strerror(err));
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  return 0;

fail:
  for (int i = 0; i < 2; i++) {
    if (po[i] >= 0) {
      close(po[i]);
    }
    if (pe[i] >= 0) {
      close(pe[i]);
    }
    if (pr[i] >= 0) {
      close(pr[i]);
    }
  }
  return rv;
}

/* Reaps the child if it has exited. @return 1 if it has. */
static int try_reap(struct plugin_process *proc) {
  int status;
  pid_t r = waitpid(proc->pid, &status, WNOHANG);

  if (r == proc->pid || (r < 0 && errno == ECHILD)) {
    proc->exited = 1;
    proc->wait_status = r == proc->pid ? status : 0;
    return 1;
  }
  return 0;
}

int soupc__process_wait_or(struct plugin_process *proc, int timeout_ms,
                           int wake_fd) {
  int64_t deadline = soupc__plugin_now_ms() + timeout_ms;
  int pidfd;

  if (proc->exited || proc->pid <= 0) {
    return 1;
  }
  /* A pidfd becomes readable the moment the child exits, so the Kill
   * sequence does not sleep past the plugin's exit (a 10 ms poll cost every
   * CLI session up to 10 ms). Fall back to a short poll where pidfd_open is
   * unavailable (kernels before 5.3). */
  pidfd = (int)syscall(SYS_pidfd_open, proc->pid, 0);
  for (;;) {
    struct pollfd pfd[2] = {{pidfd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    int64_t left;

    if (try_reap(proc)) {
      break;
    }
    left = deadline - soupc__plugin_now_ms();
    if (left <= 0) {
      break;
    }
    if (pidfd < 0 && left > 1) {
      left = 1;
    }
    if (poll(pfd, 2, (int)left) > 0 && pfd[1].revents != 0) {
      break;
    }
  }
  if (pidfd >= 0) {
    close(pidfd);
  }
  return proc->exited;
}

int soupc__process_wait(struct plugin_process *proc, int timeout_ms) {
  return soupc__process_wait_or(proc, timeout_ms, -1);
}

void soupc__process_kill(struct plugin_process *proc) {
  if (proc->pid > 0 && !proc->exited) {
    int status;
    pid_t r;

    kill(proc->pid, SIGKILL);
    do {
      r = waitpid(proc->pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    proc->exited = 1;
    proc->wait_status = r == proc->pid ? status : 0;
  }
  if (proc->stdout_fd >= 0) {
    close(proc->stdout_fd);
    proc->stdout_fd = -1;
  }
  if (proc->stderr_fd >= 0) {
    close(proc->stderr_fd);
    proc->stderr_fd = -1;
  }
}

void soupc__process_status_text(char *buf, size_t cap, int wait_status) {
  if (WIFEXITED(wait_status)) {
    snprintf(buf, cap, "exit status %d", WEXITSTATUS(wait_status));
  } else if (WIFSIGNALED(wait_status)) {
    snprintf(buf, cap, "signal %d", WTERMSIG(wait_status));
  } else {
    snprintf(buf, cap, "wait status %d", wait_status);
  }
}

int soupc__process_wait_pid(pid_t pid, int timeout_ms) {
  int64_t deadline = soupc__plugin_now_ms() + timeout_ms;
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  int gone = 0;

  /* Not our child: no waitpid. A pidfd turns readable when it exits (a
   * zombie counts); without one, poll kill(pid, 0). */
  for (;;) {
    struct pollfd pfd = {pidfd, POLLIN, 0};
    int64_t left = deadline - soupc__plugin_now_ms();

    if (pidfd < 0 && kill(pid, 0) != 0 && errno == ESRCH) {
      gone = 1;
      break;
    }
    if (pidfd >= 0 && poll(&pfd, 1, 0) > 0) {
      gone = 1;
      break;
    }
    if (left <= 0) {
      break;
    }
    (void)poll(&pfd, 1, pidfd >= 0 ? (int)left : 5);
  }
  if (pidfd >= 0) {
    close(pidfd);
  }
  return gone;
}
