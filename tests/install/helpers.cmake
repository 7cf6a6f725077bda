# What the install tests' scripts share. Each fails the test with a
# message saying what went wrong.

# Runs a command; fails the test, showing its output, unless it succeeds.
# Leaves its output in `output`.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT status EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "failed (${status}): ${command}\n${out}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

# Paths are compared as strings: they may hold regular expression syntax.
function(expect_inside what path dir)
  string(FIND "${path}" "${dir}/" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "${what}: ${path} is not in ${dir}")
  endif()
  message(STATUS "ok: ${what}")
endfunction()

function(expect what text pattern)
  if(NOT text MATCHES "${pattern}")
    message(FATAL_ERROR "${what}: expected to match '${pattern}', got:\n${text}")
  endif()
  message(STATUS "ok: ${what}")
endfunction()

# require(VAR command package): a tool the test needs, in VAR: the path
# found when the build was configured, or else one found now. Fails,
# naming the Debian package that provides it, when there is none (.ci/run
# installs them on a fresh machine).
function(require var command package)
  if(NOT ${var})
    find_program(${var} ${command} NO_CACHE)
  endif()
  if(NOT ${var})
    message(FATAL_ERROR "${command} was not found: install it (Debian package ${package}) to run this test")
  endif()
  set(${var} ${${var}} PARENT_SCOPE)
endfunction()
