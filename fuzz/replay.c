/* Runs a fuzz target's corpus without libFuzzer (STYLE.md; libgit2's
 * fuzzers/standalone_driver.c), so gcc and sanitizer builds replay every
 * seed under ctest. Arguments: files or directories of inputs. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0, n;

  if (f == NULL) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return -1;
  }
  for (;;) {
    if (cap - len < 4096) {
      uint8_t *nb;
      cap = cap == 0 ? 65536 : cap * 2;
      nb = realloc(buf, cap);
      if (nb == NULL) {
        free(buf);
        fclose(f);
        return -1;
      }
      buf = nb;
    }
    n = fread(buf + len, 1, cap - len, f);
    if (n == 0) {
      break;
    }
    len += n;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return 0;
}

static int run_path(const char *path, long *count) {
  struct stat sb;
  DIR *dir;
  struct dirent *ent;
  int rv = 0;

  if (stat(path, &sb) != 0) {
    fprintf(stderr, "replay: no such file or directory: %s\n", path);
    return -1;
  }
  if (!S_ISDIR(sb.st_mode)) {
    (*count)++;
    return run_file(path);
  }
  dir = opendir(path);
  if (dir == NULL) {
    return -1;
  }
  while ((ent = readdir(dir)) != NULL) {
    char child[4096];
    if (ent->d_name[0] == '.') {
      continue;
    }
    snprintf(child, sizeof(child), "%s/%s", path, ent->d_name);
    if (run_path(child, count) != 0) {
      rv = -1;
    }
  }
  closedir(dir);
  return rv;
}

int main(int argc, char **argv) {
  long count = 0;
  int i, rv = 0;

  for (i = 1; i < argc; i++) {
    if (run_path(argv[i], &count) != 0) {
      rv = 1;
    }
  }
  printf("replay: %ld inputs ran without a crash\n", count);
  if (count == 0) {
    fprintf(stderr, "replay: no inputs found\n");
    return 1;
  }
  return rv;
}
