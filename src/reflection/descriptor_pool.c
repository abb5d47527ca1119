/* Indexing FileDescriptorSets for gRPC reflection (descriptor_pool.h). The
 * sets are decoded with protobuf-c's generated descriptor.proto code; each
 * file is stored re-serialized (protobuf-c keeps unknown fields), with its
 * symbols named the way protoc scopes them: messages, fields and oneofs
 * under their message, enum values beside their enum (C++ scoping),
 * methods under their service. */
#include "reflection/descriptor_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "google/protobuf/descriptor.pb-c.h"

static void *pb_alloc(void *ud, size_t size) {
  (void)ud;
  return soupc__malloc(size);
}

static void pb_free(void *ud, void *ptr) {
  (void)ud;
  soupc__free(ptr);
}

/* protobuf-c through soup-c's allocator (allocation-failure tests). */
ProtobufCAllocator soupc__reflection_pb_allocator = {pb_alloc, pb_free, NULL};

/* Everything add_set() builds for one file. */
struct walk {
  struct dpool *p;
  size_t file;
  int failed;
};

static char *join(const char *scope, const char *name) {
  size_t cap = strlen(scope) + strlen(name) + 2;
  char *s = soupc__malloc(cap);

  if (s != NULL) {
    snprintf(s, cap, "%s%s%s", scope, scope[0] != '\0' ? "." : "", name);
  }
  return s;
}

/* Adds @p scope.@p name; @return the new name (owned by the pool) or
 * NULL. */
static const char *add_symbol(struct walk *w, const char *scope,
                              const char *name, int is_message) {
  struct dpool *p = w->p;
  struct dpool_symbol *ns;
  char *full;

  if (w->failed || name == NULL) {
    return NULL;
  }
  full = join(scope, name);
  ns = full == NULL
           ? NULL
           : soupc__realloc(p->syms, (p->nsyms + 1) * sizeof(*p->syms));
  if (ns == NULL) {
    soupc__free(full);
    w->failed = 1;
    return NULL;
  }
  p->syms = ns;
  ns[p->nsyms].name = full;
  ns[p->nsyms].file = w->file;
  ns[p->nsyms].is_message = is_message;
  p->nsyms++;
  return full;
}

static void add_extension(struct walk *w, const char *scope,
                          const Google__Protobuf__FieldDescriptorProto *f) {
  struct dpool *p = w->p;
  struct dpool_extension *ne;
  const char *extendee = f->extendee != NULL ? f->extendee : "";

  add_symbol(w, scope, f->name, 0);
  if (w->failed) {
    return;
  }
  ne = soupc__realloc(p->exts, (p->nexts + 1) * sizeof(*p->exts));
  if (ne == NULL) {
    w->failed = 1;
    return;
  }
  p->exts = ne;
  ne[p->nexts].extendee =
      soupc__strdup(extendee[0] == '.' ? extendee + 1 : extendee);
  ne[p->nexts].number = f->number;
  ne[p->nexts].file = w->file;
  if (ne[p->nexts].extendee == NULL) {
    w->failed = 1;
    return;
  }
  p->nexts++;
}

static void walk_enum(struct walk *w, const char *scope,
                      const Google__Protobuf__EnumDescriptorProto *e) {
  size_t i;

  add_symbol(w, scope, e->name, 0);
  for (i = 0; i < e->n_value; i++) {
    add_symbol(w, scope, e->value[i]->name, 0);
  }
}

/* NOLINTNEXTLINE(misc-no-recursion): nesting is protoc's, from a trusted set */
static void walk_message(struct walk *w, const char *scope,
                         const Google__Protobuf__DescriptorProto *m) {
  const char *name = add_symbol(w, scope, m->name, 1);
  size_t i;

  if (name == NULL) {
    return;
  }
  for (i = 0; i < m->n_field; i++) {
    add_symbol(w, name, m->field[i]->name, 0);
  }
  for (i = 0; i < m->n_oneof_decl; i++) {
    add_symbol(w, name, m->oneof_decl[i]->name, 0);
  }
  for (i = 0; i < m->n_extension; i++) {
    add_extension(w, name, m->extension[i]);
  }
  for (i = 0; i < m->n_enum_type; i++) {
    walk_enum(w, name, m->enum_type[i]);
  }
  for (i = 0; i < m->n_nested_type; i++) {
    walk_message(w, name, m->nested_type[i]);
  }
}

static void walk_file(struct walk *w,
                      const Google__Protobuf__FileDescriptorProto *f) {
  const char *pkg = f->package != NULL ? f->package : "";
  size_t i, j;

  for (i = 0; i < f->n_message_type; i++) {
    walk_message(w, pkg, f->message_type[i]);
  }
  for (i = 0; i < f->n_enum_type; i++) {
    walk_enum(w, pkg, f->enum_type[i]);
  }
  for (i = 0; i < f->n_extension; i++) {
    add_extension(w, pkg, f->extension[i]);
  }
  for (i = 0; i < f->n_service; i++) {
    const Google__Protobuf__ServiceDescriptorProto *s = f->service[i];
    const char *sname = add_symbol(w, pkg, s->name, 0);

    for (j = 0; sname != NULL && j < s->n_method; j++) {
      add_symbol(w, sname, s->method[j]->name, 0);
    }
  }
}

/* Stores @p f as the pool's next file. @return 0 or SOUPC_ERR_NOMEM. */
static int add_file(struct dpool *p,
                    const Google__Protobuf__FileDescriptorProto *f) {
  struct dpool_file *nf, *df;
  struct walk w = {p, p->nfiles, 0};
  size_t i;

  nf = soupc__realloc(p->files, (p->nfiles + 1) * sizeof(*p->files));
  if (nf == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  p->files = nf;
  df = &nf[p->nfiles];
  memset(df, 0, sizeof(*df));
  df->name = soupc__strdup(f->name);
  df->len = google__protobuf__file_descriptor_proto__get_packed_size(f);
  df->bytes = soupc__malloc(df->len > 0 ? df->len : 1);
  df->dep_names =
      soupc__calloc(f->n_dependency > 0 ? f->n_dependency : 1, sizeof(char *));
  p->nfiles++; /* from here dispose() frees what was made */
  if (df->name == NULL || df->bytes == NULL || df->dep_names == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  google__protobuf__file_descriptor_proto__pack(f, df->bytes);
  for (i = 0; i < f->n_dependency; i++) {
    df->dep_names[i] = soupc__strdup(f->dependency[i]);
    if (df->dep_names[i] == NULL) {
      return SOUPC_ERR_NOMEM;
    }
    df->ndeps++;
  }
  walk_file(&w, f);
  return w.failed ? SOUPC_ERR_NOMEM : 0;
}

int soupc__dpool_add_set(struct dpool *p, const uint8_t *set, size_t len,
                         soupc_status *st) {
  Google__Protobuf__FileDescriptorSet *fds;
  size_t i;
  int rv = 0;

  fds = google__protobuf__file_descriptor_set__unpack(
      &soupc__reflection_pb_allocator, len, set);
  if (fds == NULL) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "the descriptor set (%zu bytes) is not a "
                     "google.protobuf.FileDescriptorSet",
                     len);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  for (i = 0; i < fds->n_file && rv == 0; i++) {
    const Google__Protobuf__FileDescriptorProto *f = fds->file[i];

    if (f->name == NULL || f->name[0] == '\0') {
      soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                       "file %zu of the descriptor set has no name", i);
      rv = SOUPC_ERR_INVALID_ARGUMENT;
    } else if (soupc__dpool_find_file(p, f->name) < 0) {
      rv = add_file(p, f);
    }
  }
  google__protobuf__file_descriptor_set__free_unpacked(
      fds, &soupc__reflection_pb_allocator);
  if (rv == SOUPC_ERR_NOMEM) {
    soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
  }
  return rv;
}

static int cmp_symbol(const void *a, const void *b) {
  const struct dpool_symbol *x = a, *y = b;
  int c = strcmp(x->name, y->name);

  /* Equal names: the earlier file first, so the first set wins. */
  if (c == 0) {
    return x->file < y->file ? -1 : x->file > y->file;
  }
  return c;
}

int soupc__dpool_link(struct dpool *p, soupc_status *st) {
  size_t i, j;

  if (p->nsyms > 1) {
    qsort(p->syms, p->nsyms, sizeof(*p->syms), cmp_symbol);
  }
  for (i = 0; i < p->nfiles; i++) {
    struct dpool_file *f = &p->files[i];

    if (f->ndeps == 0 || f->deps != NULL) {
      continue;
    }
    f->deps = soupc__calloc(f->ndeps, sizeof(*f->deps));
    if (f->deps == NULL) {
      soupc_status_set(st, SOUPC_GRPC_RESOURCE_EXHAUSTED, "out of memory");
      return SOUPC_ERR_NOMEM;
    }
    for (j = 0; j < f->ndeps; j++) {
      long k = soupc__dpool_find_file(p, f->dep_names[j]);

      if (k < 0) {
        soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                         "%.200s imports %.200s, which no descriptor set "
                         "holds (protoc --include_imports)",
                         f->name, f->dep_names[j]);
        return SOUPC_ERR_INVALID_ARGUMENT;
      }
      f->deps[j] = (size_t)k;
    }
  }
  return 0;
}

long soupc__dpool_find_file(const struct dpool *p, const char *name) {
  size_t i;

  for (i = 0; i < p->nfiles; i++) {
    if (strcmp(p->files[i].name, name) == 0) {
      return (long)i;
    }
  }
  return -1;
}

const struct dpool_symbol *soupc__dpool_find_symbol(const struct dpool *p,
                                                    const char *name) {
  size_t lo = 0, hi = p->nsyms;

  /* Lower bound: the first (earliest file's) entry of equal names. */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (strcmp(p->syms[mid].name, name) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo < p->nsyms && strcmp(p->syms[lo].name, name) == 0) {
    return &p->syms[lo];
  }
  return NULL;
}

long soupc__dpool_find_extension(const struct dpool *p, const char *extendee,
                                 int32_t number) {
  size_t i;

  for (i = 0; i < p->nexts; i++) {
    if (p->exts[i].number == number &&
        strcmp(p->exts[i].extendee, extendee) == 0) {
      return (long)p->exts[i].file;
    }
  }
  return -1;
}

size_t soupc__dpool_extension_numbers(const struct dpool *p,
                                      const char *extendee, int32_t *out,
                                      size_t cap) {
  size_t i, n = 0;

  for (i = 0; i < p->nexts; i++) {
    if (strcmp(p->exts[i].extendee, extendee) == 0) {
      if (n < cap) {
        out[n] = p->exts[i].number;
      }
      n++;
    }
  }
  return n;
}

void soupc__dpool_dispose(struct dpool *p) {
  size_t i, j;

  for (i = 0; i < p->nfiles; i++) {
    struct dpool_file *f = &p->files[i];

    for (j = 0; j < f->ndeps; j++) {
      soupc__free(f->dep_names[j]);
    }
    soupc__free(f->dep_names);
    soupc__free(f->deps);
    soupc__free(f->bytes);
    soupc__free(f->name);
  }
  for (i = 0; i < p->nsyms; i++) {
    soupc__free(p->syms[i].name);
  }
  for (i = 0; i < p->nexts; i++) {
    soupc__free(p->exts[i].extendee);
  }
  soupc__free(p->files);
  soupc__free(p->syms);
  soupc__free(p->exts);
  memset(p, 0, sizeof(*p));
}
