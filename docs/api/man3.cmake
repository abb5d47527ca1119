# Picks the section-3 pages to install from Doxygen's man/man3 output:
# the pages of public symbols (soupc_*, SOUPC_*) and of the headers, which
# are renamed soupc_<header>.h.3 (plugin.h.3 is too generic a name for
# /usr/share/man/man3). Doxygen's pages for struct fields (code.3,
# address.3, ...) would collide with other packages and are dropped.
#
#   cmake -DIN=<doxygen man3 dir> -DOUT=<dir> -P man3.cmake
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
file(GLOB pages RELATIVE ${IN} ${IN}/*.3)
foreach(page ${pages})
  if(page MATCHES "^(soupc|SOUPC)_")
    set(name ${page})
  elseif(page MATCHES "^(.+)\\.h\\.3$")
    if(CMAKE_MATCH_1 STREQUAL "soupc")
      set(name ${page})
    else()
      set(name soupc_${page})
    endif()
  else()
    continue()
  endif()
  file(READ ${IN}/${page} text)
  # Link pages (".so man3/rpc.h.3") follow the renamed header pages.
  string(REGEX REPLACE "^\\.so man3/([a-z_]+)\\.h\\.3" ".so man3/soupc_\\1.h.3"
                       text "${text}")
  string(REPLACE ".so man3/soupc_soupc.h.3" ".so man3/soupc.h.3" text
                 "${text}")
  file(WRITE ${OUT}/${name} "${text}")
endforeach()
