# cty parsers of untrusted bytes (STYLE.md): msgpack decoder, JSON readers,
# type descriptions, the rich dialect; convert and unify. Seeds: fuzz/corpus/fuzz_cty_*/ (sha256-named).
if(TARGET soupc_cty)
  soupc_add_fuzzer(fuzz_cty_msgpack ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_cty_msgpack.c soupc_cty)
  soupc_add_fuzzer(fuzz_cty_json ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_cty_json.c soupc_cty)
  soupc_add_fuzzer(fuzz_cty_type ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_cty_type.c soupc_cty)
  # convert/unify, and the rich dialect with the operations on any value
  soupc_add_fuzzer(fuzz_cty_convert ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_cty_convert.c soupc_cty)
  soupc_add_fuzzer(fuzz_cty_rich ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_cty_rich.c soupc_cty)
endif()
# random stdlib function calls on random arguments (issue 14)
if(TARGET soupc_ctyfunc)
  soupc_add_fuzzer(fuzz_cty_call ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_cty_call.c soupc_ctyfunc)
endif()
