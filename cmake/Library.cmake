# The installable libraries (docs/api/abi.md, README "The C library"):
#
#   libsoupc      base, tls, transport, plugin and the messages they use
#   libsoupc-cty  cty types, values and codecs (MPFR, GMP, msgpack-c, yajl),
#                 apart so that a plugin author does not link those
#
# each as a shared library (libsoupc.so.0, -fvisibility=hidden plus a
# version script: only public soupc_ functions leave it) and a static one.
# They are built from the objects of the per-layer static libraries that the
# build tree's own tests use, so nothing is compiled twice and a file added
# to a layer's add_library() lands in the installed library by itself.
#
# Included from the top-level CMakeLists.txt after every layer exists.

include(GNUInstallDirs)

option(SOUPC_INSTALL_LIBS
       "Build the installable shared and static libraries (libsoupc, \
libsoupc-cty)" ON)
if(SOUPC_STATIC_DEPS)
  # Debian's static archives (libssl.a, ...) are not all position
  # independent, so they cannot go into a shared object.
  set(SOUPC_INSTALL_LIBS OFF)
endif()

# The layer libraries each installed library is made of. A new layer (or a
# split of one) adds its target here; missing targets are skipped.
set(SOUPC_LIB_LAYERS soupc_base soupc_tls soupc_transport soupc_plugin_core
                     soupc_yamux soupc_reflection soupc_descriptor_pb
                     soupc_plugin
                     soupc_proto_lib)
# libsoupc-cty carries its own hidden copy of base (allocation, status), so
# it exports soupc_cty_* only and never clashes with libsoupc's base.
set(SOUPC_CTY_LAYERS soupc_base soupc_cty soupc_cty_function soupc_ctyfunc)

# Dependencies of the objects above, for linking the shared libraries and
# for the .pc files' Requires.private (pkg-config module names).
set(SOUPC_LIB_DEPS PkgConfig::NGHTTP2 PkgConfig::OPENSSL PkgConfig::LIBEVENT
                   PkgConfig::PROTOBUFC PkgConfig::YAJL Threads::Threads)
set(SOUPC_LIB_PC_REQUIRES
    "libnghttp2 openssl libevent_core libevent_pthreads libevent_openssl \
libprotobuf-c yajl")
set(SOUPC_CTY_DEPS PkgConfig::MSGPACK PkgConfig::YAJL PkgConfig::UTF8PROC
                   PkgConfig::MPFR PkgConfig::GMP Threads::Threads m)
if(TARGET PkgConfig::RE2)
  # the function library's regex functions (src/ctyfunc/re2_shim.cc)
  list(APPEND SOUPC_CTY_DEPS PkgConfig::RE2 ${SOUPC_CSV_LIB} stdc++)
endif()
set(SOUPC_CTY_PC_REQUIRES "msgpack yajl libutf8proc mpfr gmp re2")
set(SOUPC_SOVERSION ${PROJECT_VERSION_MAJOR})

# soupc_objects_of(<out_var> <target>...): $<TARGET_OBJECTS:...> of each
# target that exists.
function(soupc_objects_of out_var)
  set(objs)
  foreach(t ${ARGN})
    if(TARGET ${t})
      list(APPEND objs $<TARGET_OBJECTS:${t}>)
    endif()
  endforeach()
  set(${out_var} ${objs} PARENT_SCOPE)
endfunction()

# soupc_installed_library(<name> <output-name> <version-script> <layers>
#                         <deps>): <name> (shared) and <name>_static.
function(soupc_installed_library name output map layers deps)
  soupc_objects_of(objs ${layers})
  add_library(${name} SHARED ${objs})
  add_library(${name}_static STATIC ${objs})
  foreach(t ${name} ${name}_static)
    set_target_properties(${t} PROPERTIES OUTPUT_NAME ${output}
                          LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib
                          ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
    target_include_directories(
      ${t} INTERFACE $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>
                     $<BUILD_INTERFACE:${CMAKE_BINARY_DIR}/include>
                     $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  endforeach()
  set_target_properties(${name} PROPERTIES VERSION ${PROJECT_VERSION}
                        SOVERSION ${SOUPC_SOVERSION}
                        LINK_DEPENDS ${map})
  target_link_options(${name} PRIVATE -Wl,--version-script=${map}
                      -Wl,--no-undefined)
  target_link_libraries(${name} PRIVATE ${deps})
endfunction()

if(SOUPC_INSTALL_LIBS)
  # Target names: soupc_lib (libsoupc) and soupc_cty_lib (libsoupc-cty),
  # exported as soupc::soupc and soupc::cty.
  soupc_installed_library(soupc_lib soupc ${CMAKE_SOURCE_DIR}/cmake/soupc.map
                          "${SOUPC_LIB_LAYERS}" "${SOUPC_LIB_DEPS}")
  soupc_installed_library(soupc_cty_lib soupc-cty
                          ${CMAKE_SOURCE_DIR}/cmake/soupc-cty.map
                          "${SOUPC_CTY_LAYERS}" "${SOUPC_CTY_DEPS}")
  set_target_properties(soupc_lib PROPERTIES EXPORT_NAME soupc)
  set_target_properties(soupc_cty_lib PROPERTIES EXPORT_NAME cty)
  # cty.h includes soupc.h, and soupc_strerror() & co. live in libsoupc.
  target_link_libraries(soupc_cty_lib INTERFACE soupc_lib)

  install(TARGETS soupc_lib soupc_cty_lib EXPORT soupcTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(TARGETS soupc_lib_static soupc_cty_lib_static
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/soupc
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING
          PATTERN "*.h")
  install(FILES ${CMAKE_BINARY_DIR}/include/soupc/version.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/soupc)

  # pkg-config files, relocatable: the prefix is found from the .pc file's
  # own directory, so `cmake --install --prefix DIR` works for any DIR.
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    set(SOUPC_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
    set(SOUPC_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
  else()
    file(RELATIVE_PATH rel "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
    string(REGEX REPLACE "/$" "" rel "${rel}")
    set(SOUPC_PC_PREFIX "\${pcfiledir}/${rel}")
    set(SOUPC_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  endif()
  if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
    set(SOUPC_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
  else()
    set(SOUPC_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
  endif()
  foreach(pc soupc soupc-cty)
    configure_file(${CMAKE_SOURCE_DIR}/cmake/${pc}.pc.in
                   ${CMAKE_BINARY_DIR}/pkgconfig/${pc}.pc @ONLY)
    install(FILES ${CMAKE_BINARY_DIR}/pkgconfig/${pc}.pc
            DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
  endforeach()

  # CMake package: find_package(soupc) gives soupc::soupc and soupc::cty.
  include(CMakePackageConfigHelpers)
  set(cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/soupc)
  install(EXPORT soupcTargets NAMESPACE soupc:: DESTINATION ${cmake_dir})
  configure_package_config_file(
    ${CMAKE_SOURCE_DIR}/cmake/soupcConfig.cmake.in
    ${CMAKE_BINARY_DIR}/cmake/soupcConfig.cmake INSTALL_DESTINATION ${cmake_dir})
  # 0.x: a minor release may change the ABI, so only the same minor matches.
  write_basic_package_version_file(
    ${CMAKE_BINARY_DIR}/cmake/soupcConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
  install(FILES ${CMAKE_BINARY_DIR}/cmake/soupcConfig.cmake
                ${CMAKE_BINARY_DIR}/cmake/soupcConfigVersion.cmake
          DESTINATION ${cmake_dir})
endif()

install(TARGETS soup-c RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
