// The one C++ file of soup-c: a C interface to RE2 for the regex functions
// (fn_regex.c). RE2 is the library whose syntax and leftmost-first match
// semantics Go's regexp package reproduces (Go's regexp/syntax is a port of
// RE2's parser), so go-cty's regex, regexall and regexreplace can be matched
// byte for byte; the C regex libraries in Debian (POSIX regcomp, PCRE2)
// accept a different syntax. Nothing here throws: RE2 reports errors
// through error_code(), and allocation failure ends the process as it does
// for any C++ program (std::nothrow is used for the one object we create).
#include "ctyfunc/re2_shim.h"

#include <new>
#include <re2/re2.h>
#include <string>

struct soupc_re2 {
  /* A plain holder behind the C API's opaque handle; C++ access control
   * buys nothing here. */
  re2::RE2 re; // NOLINT(misc-non-private-member-variables-in-classes)
  explicit soupc_re2(const re2::StringPiece &p, const re2::RE2::Options &o)
      : re(p, o) {}
};

extern "C" int soupc__re2_compile(struct soupc_re2 **out, const char *pat,
                                  size_t len, char *err_arg,
                                  size_t err_arg_cap) {
  re2::RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(64 << 20);
  soupc_re2 *r = new (std::nothrow) soupc_re2(re2::StringPiece(pat, len), o);
  if (r == nullptr) {
    return -1;
  }
  if (!r->re.ok()) {
    int code = static_cast<int>(r->re.error_code());
    const std::string &arg = r->re.error_arg();
    if (err_arg_cap > 0) {
      size_t n = arg.size() < err_arg_cap - 1 ? arg.size() : err_arg_cap - 1;
      arg.copy(err_arg, n);
      err_arg[n] = '\0';
    }
    delete r;
    return code;
  }
  *out = r;
  return 0;
}

extern "C" void soupc__re2_free(struct soupc_re2 *re) {
  delete re;
}

extern "C" int soupc__re2_groups(const struct soupc_re2 *re) {
  return re->re.NumberOfCapturingGroups();
}

extern "C" int soupc__re2_match(const struct soupc_re2 *re, const char *text,
                                size_t len, size_t start, long *caps,
                                int ncaps) {
  re2::StringPiece sub[SOUPC_RE2_MAX_CAPS];
  re2::StringPiece t(text, len);
  int i;

  if (ncaps > SOUPC_RE2_MAX_CAPS) {
    ncaps = SOUPC_RE2_MAX_CAPS;
  }
  if (!re->re.Match(t, start, len, re2::RE2::UNANCHORED, sub, ncaps)) {
    return 0;
  }
  for (i = 0; i < ncaps; i++) {
    size_t k = 2 * static_cast<size_t>(i);
    if (sub[i].data() == nullptr) {
      caps[k] = caps[k + 1] = -1;
    } else {
      caps[k] = static_cast<long>(sub[i].data() - text);
      caps[k + 1] = caps[k] + static_cast<long>(sub[i].size());
    }
  }
  return 1;
}
