# The gdb extension, and the auto-load scripts that make gdb load it by
# itself for any program that loads libant or libantmalloc.
# Part of ant_install_layout() (install-layout.cmake), whose layout_*
# variables it reads.
#
# For an object file, gdb runs "<its real file name>-gdb.py" found in the
# same directory or under its auto-load scripts directory, provided that
# directory is on gdb's auto-load safe path. Each script finds the
# extension by a path relative to itself, so the installed tree can move.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/gdb/ DESTINATION ${layout_GDBDIR} ${layout_ONLY}
  FILES_MATCHING PATTERN "*.py" PATTERN "*.md"
  PATTERN "__pycache__" EXCLUDE PATTERN "native" EXCLUDE)

if(IS_ABSOLUTE "${layout_GDBDIR}" OR IS_ABSOLUTE "${layout_AUTOLOADDIR}")
  cmake_path(ABSOLUTE_PATH layout_GDBDIR BASE_DIRECTORY ${CMAKE_INSTALL_PREFIX}
    OUTPUT_VARIABLE ANT_GDB_FROM_AUTOLOAD)
else()
  file(RELATIVE_PATH ANT_GDB_FROM_AUTOLOAD /prefix/${layout_AUTOLOADDIR} /prefix/${layout_GDBDIR})
endif()

foreach(lib ant antmalloc)
  set(ANT_AUTOLOAD_LIBRARY lib${lib})
  configure_file(${CMAKE_CURRENT_LIST_DIR}/autoload-gdb.py.in ${layout_BINARY_DIR}/${lib}-autoload-gdb.py @ONLY)
  # Named after the library's real file name, full version included.
  set(script ${layout_BINARY_DIR}/gdb-autoload/$<TARGET_FILE_NAME:${lib}>-gdb.py)
  file(GENERATE OUTPUT ${script} INPUT ${layout_BINARY_DIR}/${lib}-autoload-gdb.py)
  install(FILES ${script} DESTINATION ${layout_AUTOLOADDIR} ${layout_ONLY})
endforeach()

# The native walker goes next to ant-gdb.py, where antgdb/native.py looks.
install(TARGETS antfastwalk LIBRARY DESTINATION ${layout_GDBDIR} ${layout_ONLY})
