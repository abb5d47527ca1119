# transport parsers of untrusted bytes (STYLE.md): the gRPC message deframer
# and header codecs, and a whole server-side HTTP/2 connection driven from
# memory. Seeds: fuzz/corpus/fuzz_grpc_frame/, fuzz/corpus/fuzz_h2_server/.
if(TARGET soupc_transport)
  soupc_add_fuzzer(fuzz_grpc_frame ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_grpc_frame.c soupc_transport)
  soupc_add_fuzzer(fuzz_h2_server ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_h2_server.c soupc_transport)
endif()
