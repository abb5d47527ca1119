/* Fuzzes the host's handshake-line parser (go-plugin-protocol.md §2.4): a
 * plugin's stdout, or a user's --address, is untrusted. Every accepted line
 * must satisfy the parser's documented post-conditions. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "soupc/plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  soupc_plugin_handshake *hs = NULL;
  soupc_status st;

  if (soupc_plugin_handshake_parse(&hs, (const char *)data, size, &st) == 0) {
    if (hs->core_version != 1 || hs->app_version < 0 || hs->address == NULL ||
        hs->address[0] == '\0' || hs->dial_address == NULL ||
        strcmp(hs->protocol, "grpc") != 0 ||
        (strcmp(hs->network, "unix") != 0 && strcmp(hs->network, "tcp") != 0) ||
        (hs->cert_der == NULL) != (hs->cert_pem == NULL) || hs->mux < -1 ||
        hs->mux > 1) {
      __builtin_trap();
    }
    soupc_plugin_handshake_free(hs);
  } else if (memchr(st.message, '\n', strlen(st.message)) != NULL) {
    __builtin_trap(); /* messages are one line */
  }
  return 0;
}
