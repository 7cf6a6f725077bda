# find_package(ant): imported targets ant::ant, ant::ant_static and
# ant::antmalloc, and ANT_GDB_DIR, where the gdb extension is.
install(EXPORT ant-targets NAMESPACE ant:: DESTINATION ${ANT_INSTALL_CMAKEDIR} FILE ant-targets.cmake)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/ant-config.cmake.in
  ${PROJECT_BINARY_DIR}/ant-config.cmake
  INSTALL_DESTINATION ${ANT_INSTALL_CMAKEDIR}
  PATH_VARS ANT_INSTALL_GDBDIR)
# The shared library's SONAME changes with the major version, so does the
# package's promise.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ant-config-version.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ant-config.cmake ${PROJECT_BINARY_DIR}/ant-config-version.cmake
  DESTINATION ${ANT_INSTALL_CMAKEDIR})
