/* Version-safe reading of public option structs (docs/api/abi.md). */
#include "base/options.h"

#include <string.h>

int soupc__options_copy(void *dst, size_t dst_size, const void *src,
                        const char *type_name, soupc_status *st) {
  size_t size;
  size_t i;
  const unsigned char *bytes = src;

  memset(dst, 0, dst_size);
  if (src == NULL) {
    memcpy(dst, &dst_size, sizeof(dst_size));
    return 0;
  }
  memcpy(&size, src, sizeof(size));
  if (size < sizeof(size) || size > SOUPC__OPTIONS_MAX_SIZE) {
    soupc_status_set(st, SOUPC_GRPC_INVALID_ARGUMENT,
                     "%s.struct_size is %zu; initialise the struct with its "
                     "SOUPC_..._INIT macro",
                     type_name, size);
    return SOUPC_ERR_INVALID_ARGUMENT;
  }
  /* A caller built against a newer soup-c: fields we do not know must be
   * unset, or we would silently ignore what it asked for. */
  for (i = dst_size; i < size; i++) {
    if (bytes[i] != 0) {
      soupc_status_set(st, SOUPC_GRPC_UNIMPLEMENTED,
                       "%s sets a field unknown to soup-c %s (byte %zu of "
                       "%zu; this library knows %zu)",
                       type_name, SOUPC_VERSION, i, size, dst_size);
      return SOUPC_ERR_UNSUPPORTED;
    }
  }
  memcpy(dst, src, size < dst_size ? size : dst_size);
  memcpy(dst, &dst_size, sizeof(dst_size));
  return 0;
}
