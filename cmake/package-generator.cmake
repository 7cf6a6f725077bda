# Run by cpack for each generator it is asked for (CPACK_PROJECT_CONFIG_FILE
# of package-deb.cmake). A Debian package holds the component "deb", the
# rules in Debian's layout, installed under /usr; any other package keeps
# what a plain `cmake --install` installs.
if(CPACK_GENERATOR STREQUAL "DEB")
  set(CPACK_INSTALL_CMAKE_PROJECTS "${CPACK_ANT_DEB_PROJECT}")
  set(CPACK_PACKAGING_INSTALL_PREFIX "${CPACK_ANT_DEB_PREFIX}")
  # CPack warns, for developers, that the native walker has no soname and
  # so stays out of the package's shlibs file: as it should, since gdb's
  # Python loads it by path and nothing links against it.
  set(CMAKE_SUPPRESS_DEVELOPER_WARNINGS ON CACHE INTERNAL "")
  # Without dpkg-shlibdeps, CPack says nothing and leaves Depends empty:
  # a package that installs where the C library it needs is too old.
  find_program(ANT_DPKG_SHLIBDEPS dpkg-shlibdeps)
  if(NOT ANT_DPKG_SHLIBDEPS)
    message(FATAL_ERROR "dpkg-shlibdeps was not found: install the Debian package dpkg-dev, "
      "which computes the package's Depends")
  endif()
endif()
