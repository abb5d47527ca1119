/* Helpers shared by the soup-go-compatible `cty` and `wire` commands:
 * soup-go's decodeTypedArg, encodeRich, encodePath, markNames and
 * marshalResultType (cty_ops.go, cty_rich.go, cty_call.go), its one-line
 * JSON answers, and file output. */
#ifndef SOUPC_CLI_CMD_CTY_IO_H
#define SOUPC_CLI_CMD_CTY_IO_H

#include "cli/cli_json.h"
#include "soupc/cty.h"

#include <stddef.h>

/* soup-go's decodeTypedArg: the type, then the rich value; on failure
 * @p st says "failed to parse type: ..." or "failed to build value: ...".
 * @return 0 or a negative soupc_err */
int cty_io_typed_arg(soupc_cty_value **out, const char *type_json,
                     const char *value_json, soupc_status *st);
/* Puts @p prefix (under 64 bytes) in front of @p st's message. */
void cty_io_prefix_status(soupc_status *st, const char *prefix);
/* soupc_cty_type_parse of a NUL-terminated description. */
int cty_io_parse_type(soupc_cty_type **out, const char *json, soupc_status *st);
/* soupc_cty_value_from_rich_json of a NUL-terminated value. */
int cty_io_rich_arg(soupc_cty_value **out, const soupc_cty_type *ty,
                    const char *json, soupc_status *st);
/* encodeRich: appends @p v in the rich dialect. @return 0 or soupc_err */
int cty_io_put_rich(cli_jbuf *b, const soupc_cty_value *v, soupc_status *st);
/* marshalResultType: "bytes" for the bytes capsule, else
 * Type.MarshalJSON. @return 0 or soupc_err */
int cty_io_put_type(cli_jbuf *b, const soupc_cty_type *ty, soupc_status *st);
/* encodePath: [{"attr":name} | {"index":rich key}, ...]. */
int cty_io_put_path(cli_jbuf *b, const soupc_cty_path *p, soupc_status *st);
/* markNames: the marks as a sorted JSON array of strings. */
void cty_io_put_marks(cli_jbuf *b, const soupc_cty_marks *m);
/* Prints {"ok":false,"<key>":msg} ("error" or "panic"). @return its exit
 * code (0) */
int cty_io_emit_failure(const char *key, const char *msg);
/* {"ok":false,"panic"|"error":st->message} by the code @p rv. */
int cty_io_emit_status(int rv, const soupc_status *st);
/* Reads @p path ("-" = stdin) whole, NUL-terminated, like Go's
 * os.ReadFile; on failure @p err gets Go's text ("open x: no such file or
 * directory"). @return 0 or -1 */
int cty_io_read(char **data_out, size_t *len_out, const char *path, char *err,
                size_t err_size);
/* Writes @p len bytes to @p path ("-" = stdout) like os.WriteFile (mode
 * 0644); on failure @p err gets Go's text. @return 0 or -1 */
int cty_io_write(const char *path, const void *p, size_t len, char *err,
                 size_t err_size);

#endif
