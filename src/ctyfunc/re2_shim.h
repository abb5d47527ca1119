/* C interface to RE2 (re2_shim.cc): compile, count groups, match with
 * submatch positions. Used only by fn_regex.c. */
#ifndef SOUPC_CTYFUNC_RE2_SHIM_H
#define SOUPC_CTYFUNC_RE2_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Submatches the regex functions read at most (the whole match plus the
 * groups); a pattern with more groups is refused before matching. */
#define SOUPC_RE2_MAX_CAPS 1001

struct soupc_re2;

/* Compiles @p pat with RE2's default (Perl-like, UTF-8) options.
 * @return 0 (*out set), -1 (out of memory) or an RE2::ErrorCode with the
 *         offending text in @p err_arg (truncated to @p err_arg_cap). */
int soupc__re2_compile(struct soupc_re2 **out, const char *pat, size_t len,
                       char *err_arg, size_t err_arg_cap);
void soupc__re2_free(struct soupc_re2 *re);
/* @return the number of capturing groups. */
int soupc__re2_groups(const struct soupc_re2 *re);
/* Leftmost-first unanchored search of text[start..len) in the context of
 * the whole text. caps gets 2*ncaps byte offsets (-1 for a group that did
 * not take part). @return 1 if matched, 0 if not. */
int soupc__re2_match(const struct soupc_re2 *re, const char *text, size_t len,
                     size_t start, long *caps, int ncaps);

#ifdef __cplusplus
}
#endif

#endif
