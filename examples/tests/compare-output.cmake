# Runs PROGRAM and compares its standard output with the file EXPECTED.
# The output is kept in ACTUAL, so that after an intended change it can be
# reviewed and copied over EXPECTED.
#   cmake -DPROGRAM=... -DEXPECTED=... -DACTUAL=... -P compare-output.cmake
execute_process(COMMAND ${PROGRAM} OUTPUT_FILE ${ACTUAL} RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${status}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${EXPECTED} ${ACTUAL} RESULT_VARIABLE differ)
if(differ)
  execute_process(COMMAND diff -u ${EXPECTED} ${ACTUAL})
  message(FATAL_ERROR "The output of ${PROGRAM} differs from ${EXPECTED} (diff above)")
endif()
