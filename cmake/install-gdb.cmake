# The gdb extension, and the auto-load scripts that make gdb load it by
# itself for any program that loads libant or libantmalloc.
#
# For an object file, gdb runs "<its real file name>-gdb.py" found in the
# same directory or under its auto-load scripts directory, provided that
# directory is on gdb's auto-load safe path. Each script finds the
# extension by a path relative to itself, so the installed tree can move.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/gdb/ DESTINATION ${ANT_INSTALL_GDBDIR}
  FILES_MATCHING PATTERN "*.py" PATTERN "*.md"
  PATTERN "__pycache__" EXCLUDE PATTERN "native" EXCLUDE)

if(IS_ABSOLUTE "${ANT_INSTALL_GDBDIR}" OR IS_ABSOLUTE "${ANT_INSTALL_GDB_AUTOLOADDIR}")
  cmake_path(ABSOLUTE_PATH ANT_INSTALL_GDBDIR BASE_DIRECTORY ${CMAKE_INSTALL_PREFIX}
    OUTPUT_VARIABLE ANT_GDB_FROM_AUTOLOAD)
else()
  file(RELATIVE_PATH ANT_GDB_FROM_AUTOLOAD /prefix/${ANT_INSTALL_GDB_AUTOLOADDIR} /prefix/${ANT_INSTALL_GDBDIR})
endif()

foreach(lib ant antmalloc)
  set(ANT_AUTOLOAD_LIBRARY lib${lib})
  configure_file(${CMAKE_CURRENT_LIST_DIR}/autoload-gdb.py.in ${PROJECT_BINARY_DIR}/${lib}-autoload-gdb.py @ONLY)
  # Named after the library's real file name, full version included.
  set(script ${PROJECT_BINARY_DIR}/gdb-autoload/$<TARGET_FILE_NAME:${lib}>-gdb.py)
  file(GENERATE OUTPUT ${script} INPUT ${PROJECT_BINARY_DIR}/${lib}-autoload-gdb.py)
  install(FILES ${script} DESTINATION ${ANT_INSTALL_GDB_AUTOLOADDIR})
endforeach()

# The native walker goes next to ant-gdb.py, where antgdb/native.py looks.
install(TARGETS antfastwalk LIBRARY DESTINATION ${ANT_INSTALL_GDBDIR})
