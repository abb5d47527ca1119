# Layer boundaries the build enforces (docs/architecture.md, "Layers").
#
# Source files spell every project include with its layer's directory:
# "transport/server_int.h", "base/alloc.h". No target gets src/ as an
# include directory. Instead each layer gets two directories in the build
# tree:
#
#   layers/<layer>/private/<layer>  -> src/<layer>      (the whole layer)
#   layers/<layer>/export/<layer>/H -> src/<layer>/H    (each exported H)
#
# The layer's own targets see private/ (PRIVATE include), so its files reach
# all of its headers. export/ is a PUBLIC include of the layer's targets, so
# a target that links the layer (directly or through another layer's PUBLIC
# link) sees only the headers the layer exports. An include of another
# layer's private header fails with "No such file or directory", and
# scripts/check_layers.py (ctest lint/layers) proves that for every pair.
#
# Tests and fuzz targets are white-box: they link soupc_whitebox, which adds
# every layer's private directory.

add_library(soupc_whitebox INTERFACE)

# soupc_layer(<layer> TARGETS <target>... [EXPORTS <header>...])
function(soupc_layer layer)
  cmake_parse_arguments(L "" "" "TARGETS;EXPORTS" ${ARGN})
  set(src ${CMAKE_SOURCE_DIR}/src/${layer})
  set(root ${CMAKE_BINARY_DIR}/layers/${layer})
  file(MAKE_DIRECTORY ${root}/private ${root}/export/${layer})
  if(NOT IS_SYMLINK ${root}/private/${layer})
    file(CREATE_LINK ${src} ${root}/private/${layer} SYMBOLIC)
  endif()
  # Drop exports no longer listed, so a removed export really disappears.
  file(GLOB old RELATIVE ${root}/export/${layer} ${root}/export/${layer}/*)
  foreach(h ${old})
    if(NOT h IN_LIST L_EXPORTS)
      file(REMOVE ${root}/export/${layer}/${h})
    endif()
  endforeach()
  foreach(h ${L_EXPORTS})
    if(NOT EXISTS ${src}/${h})
      message(FATAL_ERROR "soupc_layer(${layer}): no header src/${layer}/${h}")
    endif()
    if(NOT IS_SYMLINK ${root}/export/${layer}/${h})
      file(CREATE_LINK ${src}/${h} ${root}/export/${layer}/${h} SYMBOLIC)
    endif()
  endforeach()
  foreach(t ${L_TARGETS})
    target_include_directories(${t} PRIVATE ${root}/private
                               PUBLIC ${root}/export)
  endforeach()
  target_include_directories(soupc_whitebox INTERFACE ${root}/private)
endfunction()
