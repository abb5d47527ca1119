/* ctystrings.SafeKnownPrefix (go-cty cty/ctystrings/prefix.go), exactly.
 *
 * go-cty NFC-normalises the prefix, then asks golang.org/x/text's
 * norm.NFC.LastBoundary where a new normalisation segment could start; if
 * that is inside the string it cuts there. Otherwise it scans grapheme
 * clusters (go-textseg) and drops the last one, unless it is a single
 * delimiter such as '-' or '/'.
 *
 * LastBoundary depends on x/text's per-rune normalisation properties,
 * which we derive from utf8proc's Unicode data the way x/text's
 * maketables.go derives them from the UCD: combines-forward/-backward from
 * the primary composites, NFC/NFD quick checks, and the counts of leading
 * and trailing non-starters in the compatibility decomposition. Grapheme
 * clusters are utf8proc's UAX #29 (Unicode 15.0, the version of
 * go-textseg v15 that go-cty uses). */
#include "cty/cty_int.h"

#include "base/alloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* x/text's qcInfo bits (forminfo.go) plus the non-starter counts. */
#define F_FWD 0x20   /* combines forward */
#define F_NO 0x10    /* NFC_QC No */
#define F_MAYBE 0x18 /* NFC_QC Maybe (combines backward) */
#define F_DECOMP 0x4 /* NFD_QC No: has a decomposition */

struct nprop {
  uint32_t cp;
  uint8_t flags; /* F_* | nTrail, final */
  uint8_t nlead;
  uint8_t ccc;
  bool oneway, fwd, bwd, decomp; /* maketables.go's fields while building */
};

static struct nprop *props;
static size_t nprops;
static pthread_once_t props_once = PTHREAD_ONCE_INIT;

#define HANGUL_BASE 0xAC00u
#define HANGUL_END 0xD7A4u
#define JAMO_L 0x1100u
#define JAMO_L_END 0x1113u
#define JAMO_V 0x1161u
#define JAMO_V_END 0x1176u
#define JAMO_T 0x11A7u
#define JAMO_T_END 0x11C3u

static bool is_hangul(uint32_t cp) {
  return cp >= HANGUL_BASE && cp < HANGUL_END;
}

static size_t decomp(uint32_t cp, utf8proc_int32_t *buf, size_t cap,
                     bool compat) {
  int bc = 0;
  utf8proc_ssize_t n = utf8proc_decompose_char(
      (utf8proc_int32_t)cp, buf, (utf8proc_ssize_t)cap,
      compat ? UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT : UTF8PROC_DECOMPOSE, &bc);

  return n < 0 || (size_t)n > cap ? 0 : (size_t)n;
}

/* NFC of @p n code points: the single code point it composes to, or -1. */
static long compose1(const utf8proc_int32_t *cps, size_t n) {
  utf8proc_int32_t buf[8];
  utf8proc_ssize_t r;

  if (n == 0 || n > 8) {
    return -1;
  }
  memcpy(buf, cps, n * sizeof(*buf));
  r = utf8proc_normalize_utf32(buf, (utf8proc_ssize_t)n,
                               UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  return r == 1 ? (long)buf[0] : -1;
}

static int prop_cmp(const void *a, const void *b) {
  const struct nprop *x = a, *y = b;

  return x->cp < y->cp ? -1 : x->cp > y->cp;
}

static struct nprop *find(uint32_t cp) {
  struct nprop key;

  key.cp = cp;
  return bsearch(&key, props, nprops, sizeof(*props), prop_cmp);
}

static bool append_cp(struct nprop **t, size_t *n, size_t *cap, uint32_t cp,
                      uint8_t ccc) {
  if (*n == *cap) {
    struct nprop *nt = realloc(*t, 2 * *cap * sizeof(**t));
    if (nt == NULL) {
      return false;
    }
    *t = nt;
    *cap *= 2;
  }
  memset(&(*t)[*n], 0, sizeof(**t));
  (*t)[*n].cp = cp;
  (*t)[*n].ccc = ccc;
  (*n)++;
  return true;
}

/* Builds the table of runes that are not inert for NFC, sorted by code
 * point. Runs once; leaves props NULL when out of memory. */
static void build(void) {
  struct nprop *t;
  uint32_t *pairs = NULL; /* (first, second) of each primary composite */
  size_t n = 0, cap = 8192, np = 0, pcap = 4096, i, k;
  uint32_t cp;
  utf8proc_int32_t d[32];

  t = malloc(cap * sizeof(*t));
  pairs = malloc(pcap * 2 * sizeof(*pairs));
  if (t == NULL || pairs == NULL) {
    goto fail;
  }
  /* Pass 1: every rune with a combining class or a decomposition, and
   * the conjoining jamo. */
  for (cp = 0; cp < 0x110000; cp++) {
    const utf8proc_property_t *p;
    if ((cp >= 0xD800 && cp < 0xE000) || is_hangul(cp)) {
      continue;
    }
    p = utf8proc_get_property((utf8proc_int32_t)cp);
    if (p->combining_class == 0 && p->decomp_seqindex == UINT16_MAX &&
        !(cp >= JAMO_L && cp < JAMO_T_END)) {
      continue;
    }
    if (!append_cp(&t, &n, &cap, cp, (uint8_t)p->combining_class)) {
      goto fail;
    }
  }
  /* Pass 2: canonical decompositions. One that NFC does not give back is
   * one-way (exclusions, singletons, non-starter decompositions); the
   * others are primary composites of (first, second). */
  for (i = 0; i < n; i++) {
    size_t dn = decomp(t[i].cp, d, 32, false);
    long first;
    if (dn == 0 || (dn == 1 && (uint32_t)d[0] == t[i].cp)) {
      continue;
    }
    t[i].decomp = true;
    if (compose1(d, dn) != (long)t[i].cp) {
      t[i].oneway = true;
      continue;
    }
    first = compose1(d, dn - 1);
    if (first < 0) {
      continue;
    }
    if (np == pcap) {
      uint32_t *npairs = realloc(pairs, 2 * pcap * 2 * sizeof(*pairs));
      if (npairs == NULL) {
        goto fail;
      }
      pairs = npairs;
      pcap *= 2;
    }
    pairs[2 * np] = (uint32_t)first;
    pairs[2 * np + 1] = (uint32_t)d[dn - 1];
    np++;
  }
  /* First parts not yet in the table (plain starters such as 'e'). */
  props = t;
  nprops = n;
  qsort(t, n, sizeof(*t), prop_cmp);
  for (k = 0; k < np; k++) {
    if (find(pairs[2 * k]) == NULL) {
      size_t before = n;
      if (!append_cp(&t, &n, &cap, pairs[2 * k], 0)) {
        goto fail;
      }
      (void)before;
      props = t;
      nprops = n;
      qsort(t, n, sizeof(*t), prop_cmp);
    }
  }
  for (k = 0; k < np; k++) {
    struct nprop *f = find(pairs[2 * k]), *s2 = find(pairs[2 * k + 1]);
    if (f != NULL && !f->oneway) {
      f->fwd = true;
    }
    if (s2 != NULL && !s2->oneway) {
      s2->bwd = true;
    }
  }
  /* Hangul jamo (maketables.go: L forward; V forward and backward; T
   * backward). */
  for (i = 0; i < n; i++) {
    cp = t[i].cp;
    if (cp >= JAMO_L && cp < JAMO_L_END) {
      t[i].fwd = true;
    } else if (cp >= JAMO_V && cp < JAMO_V_END) {
      t[i].fwd = t[i].bwd = true;
    } else if (cp > JAMO_T && cp < JAMO_T_END) {
      t[i].bwd = true;
    }
  }
  /* Pass 3: the qcInfo bits, and the non-starters (ccc != 0 or combining
   * backward) leading and trailing the compatibility decomposition. */
  for (i = 0; i < n; i++) {
    size_t dn = decomp(t[i].cp, d, 32, true), lead = 0, trail = 0;
    uint8_t f = 0;
    if (dn == 0) {
      d[0] = (utf8proc_int32_t)t[i].cp;
      dn = 1;
    }
    for (k = 0; k < dn; k++) {
      const struct nprop *x = find((uint32_t)d[k]);
      if (x == NULL || (x->ccc == 0 && !x->bwd)) {
        break;
      }
      lead++;
    }
    for (k = dn; k > 0; k--) {
      const struct nprop *x = find((uint32_t)d[k - 1]);
      if (x == NULL || (x->ccc == 0 && !x->bwd)) {
        break;
      }
      trail++;
    }
    if (t[i].fwd) {
      f |= F_FWD;
    }
    if (t[i].oneway) {
      f |= F_NO;
    } else if (t[i].bwd) {
      f |= F_MAYBE;
    }
    if (t[i].decomp) {
      f |= F_DECOMP;
    }
    t[i].flags = (uint8_t)(f | (trail > 3 ? 3 : trail));
    t[i].nlead = (uint8_t)lead;
  }
  free(pairs);
  return;
fail:
  free(t);
  free(pairs);
  props = NULL;
  nprops = 0;
}

/* x/text's Properties of the rune at @p p (its trie lookup): size 0 for
 * an incomplete sequence at the end, 1-3 for an illegal one (inert). */
struct rinfo {
  size_t size;
  uint8_t flags, ccc, nlead;
};

static struct rinfo rune_info(const uint8_t *p, size_t len) {
  struct rinfo r = {0, 0, 0, 0};
  uint8_t c0 = p[0];
  size_t need, i;
  uint32_t cp;
  const struct nprop *np;

  if (c0 < 0x80) {
    /* ASCII letters combine forward ('y' + U+0301 is U+00FD) */
    np = props != NULL ? find(c0) : NULL;
    r.size = 1;
    r.flags = np != NULL ? np->flags : 0;
    return r;
  }
  if (c0 < 0xC2 || c0 >= 0xF8) {
    r.size = 1;
    return r;
  }
  need = c0 < 0xE0 ? 2 : c0 < 0xF0 ? 3 : 4;
  if (len < need) {
    return r; /* incomplete */
  }
  for (i = 1; i < need; i++) {
    if (p[i] < 0x80 || p[i] >= 0xC0) {
      r.size = i;
      return r;
    }
  }
  r.size = need;
  cp = need == 2 ? (uint32_t)(c0 & 0x1f) << 6 | (p[1] & 0x3f)
       : need == 3
           ? (uint32_t)(c0 & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 |
                 (p[2] & 0x3f)
           : (uint32_t)(c0 & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
                 (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
  if (is_hangul(cp)) {
    bool lv = (cp - HANGUL_BASE) % 28 == 0;
    r.flags = (uint8_t)(F_DECOMP | (lv ? F_FWD : 0) | (lv ? 1 : 2));
    return r;
  }
  np = props != NULL ? find(cp) : NULL;
  if (np != NULL) {
    r.flags = np->flags;
    r.ccc = np->ccc;
    /* compInfo: nLead for non-starters and leading-ccc decompositions */
    r.nlead = np->nlead;
  }
  return r;
}

static bool rune_start(uint8_t c) {
  return (c & 0xC0) != 0x80;
}

/* lastRuneStart: the position of the last rune start before @p end (-1
 * if none) and its properties. */
static long last_rune_start(struct rinfo *info, const uint8_t *b, size_t end) {
  long p = (long)end - 1;

  while (p >= 0 && !rune_start(b[p])) {
    p--;
  }
  if (p < 0) {
    memset(info, 0, sizeof(*info));
    return -1;
  }
  *info = rune_info(b + p, end - (size_t)p);
  return p;
}

static bool inert(const struct rinfo *r) {
  return (r->flags & 0x3F) == 0 && r->ccc == 0;
}

#define MAX_NON_STARTERS 30

/* norm.NFC.LastBoundary (normalize.go lastBoundary). */
static long last_boundary(const uint8_t *b, size_t len) {
  struct rinfo info;
  long i = (long)len, p;
  unsigned ss = 0;
  bool starter;

  p = last_rune_start(&info, b, len);
  if (p == -1) {
    return -1;
  }
  if (info.size == 0) { /* ends with an incomplete rune */
    if (p == 0) {
      return -1;
    }
    i = p;
    p = last_rune_start(&info, b, (size_t)i);
    if (p == -1) {
      return i;
    }
  }
  if (p + (long)info.size != i) { /* trailing non-starter bytes */
    return i;
  }
  if (inert(&info)) {
    return i;
  }
  /* streamSafe.backwards over the runes before it */
  ss += info.flags & 0x3;
  starter = info.nlead == 0;
  for (i = p; i >= 0 && !starter; i = p) {
    p = last_rune_start(&info, b, (size_t)i);
    if (ss + (info.flags & 0x3) > MAX_NON_STARTERS) {
      break;
    }
    ss += info.flags & 0x3;
    starter = info.nlead == 0;
    if (p + (long)info.size != i) {
      if (p == -1) {
        return -1;
      }
      return i;
    }
  }
  return i;
}

/* sequenceMustEndGraphemeCluster: a single delimiter code point. */
static bool must_end_cluster(const uint8_t *s, size_t len) {
  return len == 1 && strchr("-_:;/\\,.(){}[]|?!~ \t@#$%^&*+\"'", s[0]) != NULL;
}

int soupc_cty_safe_known_prefix(char **out, size_t *len_out, const char *s,
                                size_t len) {
  size_t plen = 0, pb = 0, tb = 0, cstart = 0, off = 0;
  char *p = soupc__cty_nfc(s, len, &plen);
  const uint8_t *u;
  utf8proc_int32_t state = 0, prev_cp = -1;
  long lb;

  if (p == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  pthread_once(&props_once, build);
  if (props == NULL) {
    soupc__free(p);
    return SOUPC_ERR_NOMEM;
  }
  u = (const uint8_t *)p;
  lb = last_boundary(u, plen);
  if (lb != -1 && (size_t)lb != plen) {
    p[lb] = '\0';
    *out = p;
    *len_out = (size_t)lb;
    return 0;
  }
  /* Grapheme clusters to the end, or up to bytes that are not UTF-8 or a
   * lone CR or LF: there go-textseg asks for more input and go-cty stops,
   * keeping every cluster before them. pb..tb is the last complete
   * cluster. */
  while (off < plen) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t n =
        utf8proc_iterate(u + off, (utf8proc_ssize_t)(plen - off), &cp);
    if (n <= 0) {
      if (cstart < off) {
        tb = off;
      }
      pb = tb;
      goto done;
    }
    if (prev_cp >= 0 && utf8proc_grapheme_break_stateful(prev_cp, cp, &state)) {
      pb = tb;
      tb = off;
      cstart = off;
    }
    /* go-textseg's scanner cannot finish a cluster that starts with CR
     * (unless CR LF) or LF, even at the end of the input: it asks for more
     * and go-cty keeps what came before */
    if (cstart == off &&
        (cp == '\n' ||
         (cp == '\r' && !(off + 1 < plen && u[off + 1] == '\n')))) {
      pb = off;
      goto done;
    }
    prev_cp = cp;
    off += (size_t)n;
  }
  if (cstart < plen) {
    pb = tb;
    tb = plen;
  }
  if (must_end_cluster(u + pb, tb - pb)) {
    pb = tb;
  }
done:
  p[pb] = '\0';
  *out = p;
  *len_out = pb;
  return 0;
}

int soupc_cty_normalize_string(char **out, size_t *len_out, const char *s,
                               size_t len) {
  size_t n = 0;
  char *p = soupc__cty_nfc(s, len, &n);

  if (p == NULL) {
    return SOUPC_ERR_NOMEM;
  }
  *out = p;
  if (len_out != NULL) {
    *len_out = n;
  }
  return 0;
}
