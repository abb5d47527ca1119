# Generates protobuf-c sources for the given .proto files at build time.
# soupc_protobuf_c(<out_var> <proto>...) sets <out_var> to the generated .c files.
find_program(PROTOC_C protoc-c REQUIRED)
function(soupc_protobuf_c out_var)
  set(outputs)
  set(gen_dir ${CMAKE_BINARY_DIR}/proto)
  file(MAKE_DIRECTORY ${gen_dir})
  foreach(proto ${ARGN})
    get_filename_component(name ${proto} NAME_WE)
    set(c ${gen_dir}/${name}.pb-c.c)
    set(h ${gen_dir}/${name}.pb-c.h)
    add_custom_command(
      OUTPUT ${c} ${h}
      COMMAND ${PROTOC_C} --proto_path=${CMAKE_SOURCE_DIR}/proto
              --c_out=${gen_dir} ${CMAKE_SOURCE_DIR}/proto/${name}.proto
      DEPENDS ${CMAKE_SOURCE_DIR}/proto/${name}.proto
      COMMENT "protoc-c ${name}.proto")
    list(APPEND outputs ${c})
  endforeach()
  set(${out_var} ${outputs} PARENT_SCOPE)
endfunction()
