# Every install rule, for one layout: where the libraries, the CMake
# package, the pkg-config files, the gdb extension and its auto-load
# scripts go, each relative to the prefix. `cmake --install` installs the
# layout install.cmake chooses. A Debian package needs Debian's layout
# whatever prefix the build was configured for, so package-deb.cmake
# declares the same rules again in that layout, as a component only cpack
# asks for: one build, two layouts, and no file in one but not the other.
include(CMakePackageConfigHelpers)
set(ANT_INSTALL_RULES_DIR ${CMAKE_CURRENT_LIST_DIR})

# ant_install_layout([COMPONENT name] LIBDIR dir CMAKEDIR dir
#   PKGCONFIGDIR dir GDBDIR dir AUTOLOADDIR dir)
# With COMPONENT, the rules belong to that component alone, left out of a
# plain `cmake --install`, and the files they generate go to their own
# directory of the build tree.
function(ant_install_layout)
  cmake_parse_arguments(PARSE_ARGV 0 layout ""
    "COMPONENT;LIBDIR;CMAKEDIR;PKGCONFIGDIR;GDBDIR;AUTOLOADDIR" "")
  if(layout_COMPONENT)
    set(layout_ONLY COMPONENT ${layout_COMPONENT} EXCLUDE_FROM_ALL)
    set(layout_EXPORT ant-targets-${layout_COMPONENT})
    set(layout_BINARY_DIR ${PROJECT_BINARY_DIR}/install-${layout_COMPONENT})
  else()
    set(layout_ONLY "")
    set(layout_EXPORT ant-targets)
    set(layout_BINARY_DIR ${PROJECT_BINARY_DIR})
  endif()

  install(FILES
    ${PROJECT_SOURCE_DIR}/allocator/include/ant/ant.h
    ${PROJECT_SOURCE_DIR}/allocator/include/ant/layout.h
    ${PROJECT_SOURCE_DIR}/allocator/include/ant/problems.h
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ant ${layout_ONLY})

  # ant_warnings goes with them only because the static library names it as a
  # link-only dependency; it carries no compile options to consumers.
  install(TARGETS ant ant_static antmalloc ant_warnings EXPORT ${layout_EXPORT} ${layout_ONLY}
    LIBRARY DESTINATION ${layout_LIBDIR}
    ARCHIVE DESTINATION ${layout_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

  include(${ANT_INSTALL_RULES_DIR}/install-package.cmake)
  include(${ANT_INSTALL_RULES_DIR}/install-pkgconfig.cmake)
  include(${ANT_INSTALL_RULES_DIR}/install-gdb.cmake)
endfunction()
