# `cmake --install`: headers, libraries, a CMake package, pkg-config files
# and the gdb extension, laid out so that the installed tree can be moved:
# every path inside it is relative to the file that names it.
include(${CMAKE_CURRENT_LIST_DIR}/install-layout.cmake)

set(ANT_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/ant CACHE STRING
  "Where to install the CMake package files, relative to the prefix.")
set(ANT_INSTALL_PKGCONFIGDIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig CACHE STRING
  "Where to install the pkg-config files, relative to the prefix.")
set(ANT_INSTALL_GDBDIR ${CMAKE_INSTALL_DATADIR}/ant/gdb CACHE STRING
  "Where to install the gdb extension (ant-gdb.py and antgdb/), relative to the prefix.")
set(ANT_INSTALL_GDB_AUTOLOADDIR ${CMAKE_INSTALL_LIBDIR} CACHE STRING
  "Where to install the gdb auto-load scripts, relative to the prefix: next to the libraries by default, or under gdb's auto-load directory, such as share/gdb/auto-load/usr/lib/x86_64-linux-gnu.")

# The drop-in needs no header, but a program may still call ant_walk() or
# ant_check() through it.
target_include_directories(antmalloc INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

ant_install_layout(
  LIBDIR ${CMAKE_INSTALL_LIBDIR}
  CMAKEDIR ${ANT_INSTALL_CMAKEDIR}
  PKGCONFIGDIR ${ANT_INSTALL_PKGCONFIGDIR}
  GDBDIR ${ANT_INSTALL_GDBDIR}
  AUTOLOADDIR ${ANT_INSTALL_GDB_AUTOLOADDIR})
