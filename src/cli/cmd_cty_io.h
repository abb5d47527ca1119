/* Helpers shared by cmd_wire.c and cmd_cty.c (input, output, base64). */
#ifndef SOUPC_CLI_CMD_CTY_IO_H
#define SOUPC_CLI_CMD_CTY_IO_H

#include <stddef.h>
#include <stdint.h>

/* Standard padded base64 (Go base64.StdEncoding). Caller frees *out with
 * free(). @return 0 or -1. */
int cty_io_b64_encode(char **out, size_t *len_out, const uint8_t *p,
                      size_t len);
/* Decodes padded base64, ignoring \r and \n as Go does. @return 0, or -1
 * if @p s is not base64. */
int cty_io_b64_decode(uint8_t **out, size_t *len_out, const char *s,
                      size_t len);
/* Writes @p len bytes to @p path ("-" = stdout). @return 0 or -1. */
int cty_io_write(const char *path, const void *p, size_t len);

#endif
