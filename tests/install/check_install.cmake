# Installs the build tree BUILD_DIR into WORK_DIR/prefix, builds the consumer project beside
# this file against it, and runs it on ASSETS_DIR with the lossless codec, which must agree
# with the whole model on every image. Run by CTest (tests/CMakeLists.txt).
foreach(var BUILD_DIR WORK_DIR ASSETS_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_install.cmake: ${var} is not set")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${what} failed (${status}):\n${out}\n${err}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

run("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)
# Nothing from the source or build tree may leak into the installed package.
file(GLOB package_files ${WORK_DIR}/prefix/lib/cmake/disc/*.cmake)
foreach(file ${package_files})
  file(READ ${file} text)
  foreach(tree ${BUILD_DIR} ${CMAKE_CURRENT_LIST_DIR}/../..)
    get_filename_component(tree ${tree} REALPATH)
    string(FIND "${text}" "${tree}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${file} names ${tree}")
    endif()
  endforeach()
endforeach()
run("configure the consumer" ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR} -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release)
run("build the consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run("run the consumer" ${WORK_DIR}/build/split_on_loopback ${ASSETS_DIR} resnet20_cifar10 8 disc:bits=0)
message(STATUS "${output}")
if(NOT output MATCHES ": 8 of 8 images agree, [0-9]+ bytes sent of [0-9]+ raw")
  message(FATAL_ERROR "unexpected output: ${output}")
endif()
