/* go-cty stdlib jsonencode, jsondecode (cty/function/stdlib/json.go) on
 * the value model's cty JSON codec, and csvdecode (csv.go) with Go's
 * encoding/csv rules on libcsv. */
#include "ctyfunc/fn_int.h"

#include "base/alloc.h"

#include <csv.h>
#include <string.h>

/* ---- jsonencode ---- */

static int jsonencode_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                           struct soupc_cty_value *const *a, size_t n,
                           const struct soupc_cty_type *ret) {
  const struct soupc_cty_value *v = a[0];
  soupc_status st;
  char *js = NULL;
  size_t len = 0;
  int rv;

  soupc_status_clear(&st);
  if (!soupc__fn_wholly_known(v)) {
    /* What the unknown parts allow: a string, object or array opener. */
    struct soupc_cty_value *u = NULL, *r = NULL;
    soupc_cty_range *rng = NULL;
    soupc_cty_refiner *b = NULL;
    const char *prefix = NULL;
    rv = soupc_cty_value_range(&rng, v, &st);
    if (rv == 0) {
      rv = soupc__fn_unknown(&u, ret);
    }
    if (rv == 0 && !soupc_cty_range_could_be_null(rng)) {
      const struct soupc_cty_type *t = soupc_cty_range_type(rng);
      soupc_cty_kind k = t->kind;
      prefix =
          k == SOUPC_CTY_STRING                           ? "\""
          : (k == SOUPC_CTY_OBJECT || k == SOUPC_CTY_MAP) ? "{"
          : (k == SOUPC_CTY_TUPLE || k == SOUPC_CTY_LIST || k == SOUPC_CTY_SET)
              ? "["
              : "";
      rv = soupc_cty_refine_begin(&b, u);
      if (rv == 0) {
        if (prefix[0] != '\0') {
          soupc_cty_refine_string_prefix_full(b, prefix, 1);
        }
        rv = soupc_cty_refine_finish(&r, b, &st);
      }
      soupc_cty_value_free(u);
      u = r;
    }
    soupc_cty_range_free(rng);
    if (rv != 0) {
      soupc_cty_value_free(u);
      return soupc__fn_status(c, -1, rv, &st);
    }
    *out = u;
    return 0;
  }
  if (soupc__fn_null_p(v)) {
    return soupc__fn_str(out, "null", 4);
  }
  rv = soupc_cty_json_encode(&js, &len, v, v->type, &st);
  if (rv != 0) {
    return soupc__fn_status(c, -1, rv, &st);
  }
  rv = soupc__fn_str(out, js, len);
  soupc_cty_free_bytes(js);
  return rv;
}

/* ---- jsondecode ---- */

static int jsondecode_type(struct soupc_cty_type **out, struct fn_ctx *c,
                           struct soupc_cty_value *const *a, size_t n) {
  soupc_status st;
  int rv;

  soupc_status_clear(&st);
  if (!soupc__fn_known(a[0])) {
    /* The refined prefix may already say what the document is. */
    soupc_cty_range *rng = NULL;
    const char *p = "";
    size_t plen = 0, sz;
    int32_t r;
    rv = soupc_cty_value_range(&rng, a[0], &st);
    if (rv == 0 && soupc_cty_range_type(rng)->kind == SOUPC_CTY_STRING) {
      rv = soupc_cty_range_string_prefix(rng, &p, &plen, &st);
    }
    /* strings.TrimSpace, leading side (the first rune is all we need) */
    while (rv == 0 && plen > 0 &&
           soupc__fn_is_space(soupc__fn_rune(p, plen, &sz))) {
      p += sz;
      plen -= sz;
    }
    r = rv == 0 && plen > 0 ? soupc__fn_rune(p, plen, &sz) : -1;
    soupc_cty_range_free(rng); /* p pointed into it */
    if (rv != 0) {
      return soupc__fn_status(c, 0, rv, &st);
    }
    *out = soupc__cty_type_prim(SOUPC_CTY_DYNAMIC);
    if (r < 0) {
      return 0;
    }
    switch (r) {
    case '{':
    case '[':
    case 'n':
      return 0;
    case '"':
      *out = soupc__cty_type_prim(SOUPC_CTY_STRING);
      return 0;
    case 't':
    case 'f':
      *out = soupc__cty_type_prim(SOUPC_CTY_BOOL);
      return 0;
    case '-':
    case '.':
      *out = soupc__cty_type_prim(SOUPC_CTY_NUMBER);
      return 0;
    default:
      if (r >= '0' && r <= '9') {
        *out = soupc__cty_type_prim(SOUPC_CTY_NUMBER);
        return 0;
      }
      {
        struct cty_buf b;
        soupc__cty_buf_init(&b);
        soupc__cty_buf_puts(&b, "a JSON document cannot begin with the "
                                "character ");
        soupc__fn_quote_rune(&b, r);
        return soupc__fn_fail_buf(c, 0, &b);
      }
    }
  }
  rv = soupc_cty_json_implied_type(out, a[0]->u.str.s, a[0]->u.str.len, &st);
  return soupc__fn_status(c, -1, rv, &st);
}

static int jsondecode_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                           struct soupc_cty_value *const *a, size_t n,
                           const struct soupc_cty_type *ret) {
  soupc_status st;
  int rv;

  soupc_status_clear(&st);
  rv = soupc_cty_json_decode(out, ret, a[0]->u.str.s, a[0]->u.str.len, &st);
  return soupc__fn_status(c, -1, rv, &st);
}

/* ---- csvdecode: Go's encoding/csv Reader (Comma ',', no comment char,
 * strict quotes) on libcsv ---- */

/* libcsv.c 3.0.3 parser states (struct csv_parser.pstate). */
#define LIBCSV_ROW_NOT_BEGUN 0

struct csv_rows {
  /* the record being read */
  char **fields;
  size_t *lens;
  size_t nf, cap;
  /* finished records */
  char ***rows;
  size_t **row_lens;
  size_t *row_n;
  long *row_line; /* the line each record started on (Go's recLine) */
  size_t nrows, row_cap;
  long start_line; /* of the record being read */
  bool oom;
};

static void rows_dispose(struct csv_rows *r) {
  size_t i, j;

  for (i = 0; i < r->nf; i++) {
    soupc__free(r->fields[i]);
  }
  soupc__free(r->fields);
  soupc__free(r->lens);
  for (i = 0; i < r->nrows; i++) {
    for (j = 0; j < r->row_n[i]; j++) {
      soupc__free(r->rows[i][j]);
    }
    soupc__free(r->rows[i]);
    soupc__free(r->row_lens[i]);
  }
  soupc__free(r->rows);
  soupc__free(r->row_lens);
  soupc__free(r->row_n);
  soupc__free(r->row_line);
}

static void on_field(void *s, size_t len, void *data) {
  struct csv_rows *r = data;

  if (r->oom) {
    return;
  }
  if (r->nf == r->cap) {
    size_t cap = r->cap == 0 ? 8 : r->cap * 2;
    char **f = soupc__realloc(r->fields, cap * sizeof(char *));
    size_t *l;
    if (f == NULL) {
      r->oom = true;
      return;
    }
    r->fields = f;
    l = soupc__realloc(r->lens, cap * sizeof(size_t));
    if (l == NULL) {
      r->oom = true;
      return;
    }
    r->lens = l;
    r->cap = cap;
  }
  r->fields[r->nf] = soupc__strndup(s != NULL ? s : "", len);
  if (r->fields[r->nf] == NULL) {
    r->oom = true;
    return;
  }
  r->lens[r->nf++] = len;
}

static void on_row(int term, void *data) {
  struct csv_rows *r = data;

  (void)term;
  if (r->oom) {
    return;
  }
  if (r->nrows == r->row_cap) {
    size_t cap = r->row_cap == 0 ? 8 : r->row_cap * 2;
    char ***rows = soupc__realloc(r->rows, cap * sizeof(char **));
    size_t **rl;
    size_t *rn;
    long *line;
    if (rows == NULL) {
      r->oom = true;
      return;
    }
    r->rows = rows;
    rl = soupc__realloc(r->row_lens, cap * sizeof(size_t *));
    if (rl == NULL) {
      r->oom = true;
      return;
    }
    r->row_lens = rl;
    rn = soupc__realloc(r->row_n, cap * sizeof(size_t));
    if (rn == NULL) {
      r->oom = true;
      return;
    }
    r->row_n = rn;
    line = soupc__realloc(r->row_line, cap * sizeof(long));
    if (line == NULL) {
      r->oom = true;
      return;
    }
    r->row_line = line;
    r->row_cap = cap;
  }
  r->rows[r->nrows] = r->fields;
  r->row_lens[r->nrows] = r->lens;
  r->row_n[r->nrows] = r->nf;
  r->row_line[r->nrows] = r->start_line;
  r->nrows++;
  r->fields = NULL;
  r->lens = NULL;
  r->nf = r->cap = 0;
}

static int only_newline(unsigned char ch) {
  return ch == '\n'; /* Go splits lines at \n only; \r is data */
}

static int no_space(unsigned char ch) {
  (void)ch;
  return 0; /* TrimLeadingSpace is false: spaces are data */
}

/* A csv.ParseError: "CSV parse error on line N: <Err>". */
struct csv_err {
  long line;
  const char *what;
};

/* Reads the whole document as Go's Reader.Read loop would, stopping after
 * @p max_rows records (0 = all) or at the first error. */
static int csv_read(struct csv_rows *rows, struct csv_err *err, const char *s,
                    size_t len, size_t max_rows) {
  struct csv_parser p;
  size_t i = 0;
  long line = 0, last_content = 0;
  char *buf;

  memset(rows, 0, sizeof(*rows));
  err->what = NULL;
  buf = soupc__malloc(len + 1);
  if (buf == NULL || csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
    soupc__free(buf);
    return SOUPC_ERR_NOMEM;
  }
  csv_set_term_func(&p, only_newline);
  csv_set_space_func(&p, no_space);
  csv_set_realloc_func(&p, soupc__realloc);
  csv_set_free_func(&p, soupc__free);
  /* Feed one line at a time (Reader.readLine): "\r\n" ends a line as
   * "\n", and a "\r" just before the end of input is dropped. */
  while (i < len && err->what == NULL && !rows->oom &&
         (max_rows == 0 || rows->nrows < max_rows)) {
    const char *nl = memchr(s + i, '\n', len - i);
    size_t end = nl != NULL ? (size_t)(nl - s) + 1 : len, ll = end - i, used;
    memcpy(buf, s + i, ll);
    if (nl != NULL && ll >= 2 && buf[ll - 2] == '\r') {
      buf[ll - 2] = '\n';
      ll--;
    } else if (nl == NULL && ll > 0 && buf[ll - 1] == '\r') {
      ll--;
    }
    line++;
    if (ll > 0) {
      last_content = line; /* Go: pos.line++ for any line read but "" */
    }
    if (p.pstate == LIBCSV_ROW_NOT_BEGUN) {
      rows->start_line = line; /* empty lines are skipped before a record */
    }
    used = csv_parse(&p, buf, ll, on_field, on_row, rows);
    if (used < ll && csv_error(&p) == CSV_EPARSE) {
      err->line = line;
      /* A quote inside an unquoted field, or anything but a quote,
       * comma or end of line after a closing quote. */
      err->what = p.quoted ? "extraneous or missing \" in quoted-field"
                           : "bare \" in non-quoted-field";
    } else if (used < ll) {
      rows->oom = true;
    }
    i = end;
  }
  if (err->what == NULL && !rows->oom &&
      (max_rows == 0 || rows->nrows < max_rows) &&
      csv_fini(&p, on_field, on_row, rows) != 0) {
    if (csv_error(&p) == CSV_EPARSE) {
      err->line = last_content; /* unterminated quoted field at EOF */
      err->what = "extraneous or missing \" in quoted-field";
    } else {
      rows->oom = true;
    }
  }
  csv_free(&p);
  soupc__free(buf);
  return rows->oom ? SOUPC_ERR_NOMEM : 0;
}

static int csv_fail(struct fn_ctx *c, const struct csv_err *e) {
  return soupc__fn_fail(c, -1, "CSV parse error on line %ld: %s", e->line,
                        e->what);
}

/* The header record, checked as csvdecode's Type function does. */
static int csv_headers(struct csv_rows *rows, struct fn_ctx *c, const char *s,
                       size_t len) {
  struct csv_err e;
  size_t i, j;
  int rv = csv_read(rows, &e, s, len, 1);

  if (rv != 0) {
    rows_dispose(rows);
    return rv;
  }
  if (rows->nrows == 0 && e.what == NULL) {
    rows_dispose(rows);
    return soupc__fn_fail(c, -1, "missing header line");
  }
  if (rows->nrows == 0) {
    rows_dispose(rows);
    return csv_fail(c, &e);
  }
  for (i = 0; i < rows->row_n[0]; i++) {
    for (j = 0; j < i; j++) {
      if (rows->row_lens[0][i] == rows->row_lens[0][j] &&
          memcmp(rows->rows[0][i], rows->rows[0][j], rows->row_lens[0][i]) ==
              0) {
        struct cty_buf b;
        soupc__cty_buf_init(&b);
        soupc__cty_buf_puts(&b, "duplicate column name ");
        soupc__cty_go_quote(&b, rows->rows[0][i], rows->row_lens[0][i]);
        rows_dispose(rows);
        return soupc__fn_fail_buf(c, -1, &b);
      }
    }
  }
  return 0;
}

static int csvdecode_type(struct soupc_cty_type **out, struct fn_ctx *c,
                          struct soupc_cty_value *const *a, size_t n) {
  struct soupc_cty_type *obj = NULL;
  struct csv_rows rows;
  int rv;

  if (!soupc__fn_known(a[0])) {
    *out = soupc__cty_type_prim(SOUPC_CTY_DYNAMIC);
    return 0;
  }
  rv = csv_headers(&rows, c, a[0]->u.str.s, a[0]->u.str.len);
  if (rv != 0) {
    return rv;
  }
  rv = soupc__fn_object_type_str(&obj, (const char *const *)rows.rows[0],
                                 rows.row_lens[0], rows.row_n[0]);
  rows_dispose(&rows);
  if (rv != 0) {
    return rv;
  }
  rv = soupc__fn_list_type(out, obj);
  soupc_cty_type_free(obj);
  return rv;
}

static int csvdecode_impl(struct soupc_cty_value **out, struct fn_ctx *c,
                          struct soupc_cty_value *const *a, size_t n,
                          const struct soupc_cty_type *ret) {
  const struct soupc_cty_type *ety = ret->elem;
  struct soupc_cty_value **items = NULL;
  struct csv_rows rows;
  struct csv_err e;
  size_t r, k, nitems = 0;
  int rv = csv_read(&rows, &e, a[0]->u.str.s, a[0]->u.str.len, 0);

  if (rv != 0) {
    rows_dispose(&rows);
    return rv;
  }
  /* Records after the header, each with as many fields (FieldsPerRecord);
   * Read reports the first wrong count, or the first syntax error. */
  for (r = 1; r < rows.nrows; r++) {
    if (rows.row_n[r] != ety->n) {
      struct csv_err fe = {rows.row_line[r], "wrong number of fields"};
      rows_dispose(&rows);
      return csv_fail(c, &fe);
    }
  }
  if (e.what != NULL) {
    rows_dispose(&rows);
    return csv_fail(c, &e);
  }
  items = FN_PTR_ARRAY(rows.nrows);
  if (items == NULL) {
    rows_dispose(&rows);
    return SOUPC_ERR_NOMEM;
  }
  for (r = 1; r < rows.nrows && rv == 0; r++) {
    struct soupc_cty_value **attrs = FN_PTR_ARRAY(ety->n);
    if (attrs == NULL) {
      rv = SOUPC_ERR_NOMEM;
      break;
    }
    /* vals[headers[i]] = cols[i], then ObjectVal (attribute order). */
    for (k = 0; k < ety->n && rv == 0; k++) {
      long idx =
          soupc__cty_type_attr(ety, rows.rows[0][k], rows.row_lens[0][k]);
      rv = soupc__fn_str(&attrs[idx], rows.rows[r][k], rows.row_lens[r][k]);
    }
    if (rv == 0) {
      rv = soupc__fn_object(&items[nitems], (const char *const *)ety->names,
                            ety->name_lens, attrs, ety->n);
      nitems += rv == 0;
    } else {
      for (k = 0; k < ety->n; k++) {
        soupc_cty_value_free(attrs[k]);
      }
      soupc__free(attrs);
    }
  }
  rows_dispose(&rows);
  if (rv != 0) {
    while (nitems > 0) {
      soupc_cty_value_free(items[--nitems]);
    }
    soupc__free(items);
    return rv;
  }
  return soupc__fn_list(out, ety, items, nitems);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct fn_param p_jsonencode[] = {
    {"val", FN_T_DYNAMIC,
     SOUPC_CTY_PARAM_ALLOW_UNKNOWN | SOUPC_CTY_PARAM_ALLOW_DYNAMIC |
         SOUPC_CTY_PARAM_ALLOW_NULL}};
static const struct fn_param p_str[] = {{"str", FN_T_STRING, 0}};

const struct soupc_cty_function soupc__fn_encoding[] = {
    {"jsonencode",
     "Returns a string containing a JSON representation of the given value.",
     p_jsonencode, N(p_jsonencode), NULL, NULL, FN_T_STRING, FN_REFINE_NOT_NULL,
     jsonencode_impl},
    {"jsondecode",
     "Parses the given string as JSON and returns a value corresponding to "
     "what the JSON document describes.",
     p_str, N(p_str), NULL, jsondecode_type, FN_T_DYNAMIC, FN_REFINE_NONE,
     jsondecode_impl},
    {"csvdecode",
     "Parses the given string as Comma Separated Values (as defined by RFC "
     "4180) and returns a map of objects representing the table of data, "
     "using the first row as a header row to define the object attributes.",
     p_str, N(p_str), NULL, csvdecode_type, FN_T_DYNAMIC, FN_REFINE_NOT_NULL,
     csvdecode_impl},
};
const size_t soupc__fn_encoding_count = N(soupc__fn_encoding);
