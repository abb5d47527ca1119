# The go-plugin handshake line parser (src/plugin/handshake.c).
soupc_add_fuzzer(fuzz_handshake_line
                 ${CMAKE_SOURCE_DIR}/fuzz/fuzz_handshake_line.c
                 soupc_plugin_core)
