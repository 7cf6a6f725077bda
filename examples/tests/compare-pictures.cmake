# Draws the README's pictures again into ACTUAL and compares them with
# those committed in EXPECTED (examples/pictures): a change to the
# walkthrough or to the renderer must come with the pictures it makes
# (cmake --build build --target pictures, then commit them).
#   cmake -DGDB=... -DPROGRAM=... -DSCRIPT=... -DEXPECTED=... -DACTUAL=... -P compare-pictures.cmake
file(REMOVE_RECURSE ${ACTUAL})
execute_process(COMMAND ${CMAKE_COMMAND} -E env ANT_PICTURES_PROGRAM=${PROGRAM} ANT_PICTURES_DIR=${ACTUAL}
  ${GDB} -nx -batch -x ${SCRIPT} RESULT_VARIABLE status OUTPUT_QUIET)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${SCRIPT} failed (${status})")
endif()
file(GLOB expected RELATIVE ${EXPECTED} ${EXPECTED}/*.svg)
file(GLOB actual RELATIVE ${ACTUAL} ${ACTUAL}/*.svg)
if(NOT expected STREQUAL actual)
  message(FATAL_ERROR "The pictures drawn (${actual}) are not those committed (${expected})")
endif()
set(differ "")
foreach(name ${expected})
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${EXPECTED}/${name} ${ACTUAL}/${name}
    RESULT_VARIABLE changed)
  if(changed)
    execute_process(COMMAND diff -u ${EXPECTED}/${name} ${ACTUAL}/${name})
    list(APPEND differ ${name})
  endif()
endforeach()
if(differ)
  message(FATAL_ERROR "These pictures differ from the committed ones (diff above): ${differ}; "
    "after an intended change, run: cmake --build <build> --target pictures")
endif()
