# `cmake --install`: headers, libraries, a CMake package, pkg-config files
# and the gdb extension, laid out so that the installed tree can be moved:
# every path inside it is relative to the file that names it.
include(CMakePackageConfigHelpers)

set(ANT_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/ant CACHE STRING
  "Where to install the CMake package files, relative to the prefix.")
set(ANT_INSTALL_GDBDIR ${CMAKE_INSTALL_DATADIR}/ant/gdb CACHE STRING
  "Where to install the gdb extension (ant-gdb.py and antgdb/), relative to the prefix.")
set(ANT_INSTALL_GDB_AUTOLOADDIR ${CMAKE_INSTALL_LIBDIR} CACHE STRING
  "Where to install the gdb auto-load scripts, relative to the prefix: next to the libraries by default, or under gdb's auto-load directory, such as share/gdb/auto-load/usr/lib/x86_64-linux-gnu.")

install(FILES
  ${PROJECT_SOURCE_DIR}/allocator/include/ant/ant.h
  ${PROJECT_SOURCE_DIR}/allocator/include/ant/layout.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ant)

# ant_warnings goes with them only because the static library names it as a
# link-only dependency; it carries no compile options to consumers.
install(TARGETS ant ant_static antmalloc ant_warnings EXPORT ant-targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The drop-in needs no header, but a program may still call ant_walk() or
# ant_check() through it.
target_include_directories(antmalloc INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

include(${CMAKE_CURRENT_LIST_DIR}/install-package.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/install-pkgconfig.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/install-gdb.cmake)
