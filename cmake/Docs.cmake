# The API reference (Doxygen: HTML, section-3 man pages, and XML for the
# documentation and exported-symbol checks) and soup-c.1 (help2man, from the
# binary's own --help texts). Included from the top-level CMakeLists.txt.

find_program(DOXYGEN_EXECUTABLE doxygen)
find_program(HELP2MAN_EXECUTABLE help2man)
if(DOXYGEN_EXECUTABLE)
  set(have_doxygen ON)
else()
  set(have_doxygen OFF)
endif()
option(SOUPC_DOCS "Build the API reference and the man pages" ${have_doxygen})

# Public headers whose owners are still writing their contract comments:
# their symbols need only be declared, not documented, to pass the checks
# (tests/docs/api, tests/install/symbols). Remove yours when it is done;
# this list must end empty. Any header not listed, new ones included, is
# checked in full.
set(SOUPC_DOCS_PENDING)

if(SOUPC_DOCS)
  if(NOT DOXYGEN_EXECUTABLE OR NOT HELP2MAN_EXECUTABLE)
    message(FATAL_ERROR "SOUPC_DOCS needs doxygen and help2man "
                        "(scripts/install-deps.sh)")
  endif()
  set(SOUPC_DOCS_OUT ${CMAKE_BINARY_DIR}/docs/api)
  configure_file(${CMAKE_SOURCE_DIR}/docs/api/Doxyfile.in
                 ${CMAKE_BINARY_DIR}/docs/Doxyfile @ONLY)
  file(GLOB SOUPC_DOC_HEADERS CONFIGURE_DEPENDS
       ${CMAKE_SOURCE_DIR}/include/soupc/*.h)
  # Doxygen never deletes pages of removed symbols: start from empty.
  add_custom_command(
    OUTPUT ${SOUPC_DOCS_OUT}/xml/index.xml
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${SOUPC_DOCS_OUT}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${SOUPC_DOCS_OUT}
    COMMAND ${DOXYGEN_EXECUTABLE} ${CMAKE_BINARY_DIR}/docs/Doxyfile
    COMMAND ${CMAKE_COMMAND} -DIN=${SOUPC_DOCS_OUT}/man/man3
            -DOUT=${SOUPC_DOCS_OUT}/man3 -P ${CMAKE_SOURCE_DIR}/docs/api/man3.cmake
    DEPENDS ${SOUPC_DOC_HEADERS} ${CMAKE_BINARY_DIR}/include/soupc/version.h
            ${CMAKE_BINARY_DIR}/docs/Doxyfile
            ${CMAKE_SOURCE_DIR}/docs/api/mainpage.md
            ${CMAKE_SOURCE_DIR}/docs/api/man3.cmake
    COMMENT "doxygen: API reference")
  add_custom_target(api-docs ALL DEPENDS ${SOUPC_DOCS_OUT}/xml/index.xml)

  # soup-c.1: the top-level --help and every command's --help.
  set(SOUPC_MAN1 ${CMAKE_BINARY_DIR}/docs/man/soup-c.1)
  add_custom_command(
    OUTPUT ${SOUPC_MAN1}
    COMMAND ${CMAKE_SOURCE_DIR}/docs/man/gen-soup-c-man.sh $<TARGET_FILE:soup-c>
            ${CMAKE_SOURCE_DIR}/docs/man/soup-c.h2m ${SOUPC_MAN1}
    DEPENDS soup-c ${CMAKE_SOURCE_DIR}/docs/man/gen-soup-c-man.sh
            ${CMAKE_SOURCE_DIR}/docs/man/soup-c.h2m
    COMMENT "help2man: soup-c.1")
  add_custom_target(man-pages ALL DEPENDS ${SOUPC_MAN1})

  install(FILES ${SOUPC_MAN1} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  install(DIRECTORY ${SOUPC_DOCS_OUT}/man3/
          DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)
  install(DIRECTORY ${SOUPC_DOCS_OUT}/html/
          DESTINATION ${CMAKE_INSTALL_DOCDIR}/html)
endif()
