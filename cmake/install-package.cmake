# find_package(ant): imported targets ant::ant, ant::ant_static and
# ant::antmalloc, and ANT_GDB_DIR, where the gdb extension is.
# Part of ant_install_layout() (install-layout.cmake), whose layout_*
# variables it reads.
install(EXPORT ${layout_EXPORT} NAMESPACE ant:: DESTINATION ${layout_CMAKEDIR} FILE ant-targets.cmake
  ${layout_ONLY})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/ant-config.cmake.in
  ${layout_BINARY_DIR}/ant-config.cmake
  INSTALL_DESTINATION ${layout_CMAKEDIR}
  PATH_VARS layout_GDBDIR)
# The shared library's SONAME changes with the major version, so does the
# package's promise.
write_basic_package_version_file(${layout_BINARY_DIR}/ant-config-version.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${layout_BINARY_DIR}/ant-config.cmake ${layout_BINARY_DIR}/ant-config-version.cmake
  DESTINATION ${layout_CMAKEDIR} ${layout_ONLY})
