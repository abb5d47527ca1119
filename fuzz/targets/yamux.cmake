# The yamux session's framing (src/yamux/yamux.c): what a multiplexing peer
# sends is untrusted. Seeds: fuzz/corpus/fuzz_yamux_frame/.
if(TARGET soupc_yamux)
  soupc_add_fuzzer(fuzz_yamux_frame ${CMAKE_SOURCE_DIR}/fuzz/fuzz_yamux_frame.c
                   soupc_yamux)
endif()
