# Picky warnings, in the spirit of nghttp2's cmake/PickyWarningsC.cmake.
set(SOUPC_WARNINGS
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wundef -Wwrite-strings -Wvla -Wimplicit-fallthrough
    -Wno-unused-parameter)
if(SOUPC_WERROR)
  list(APPEND SOUPC_WARNINGS -Werror)
endif()

# Applies the project warnings to one target's C sources (the one C++ file,
# src/ctyfunc/re2_shim.cc, sets its own).
function(soupc_warnings target)
  foreach(w ${SOUPC_WARNINGS})
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:C>:${w}>)
  endforeach()
endfunction()
