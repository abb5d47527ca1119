# Picky warnings, in the spirit of nghttp2's cmake/PickyWarningsC.cmake.
set(SOUPC_WARNINGS
    -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wundef -Wwrite-strings -Wvla -Wimplicit-fallthrough
    -Wno-unused-parameter)
if(SOUPC_WERROR)
  list(APPEND SOUPC_WARNINGS -Werror)
endif()

# Applies the project warnings to one target.
function(soupc_warnings target)
  target_compile_options(${target} PRIVATE ${SOUPC_WARNINGS})
endfunction()
