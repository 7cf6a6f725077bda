# `cpack -G DEB` in the build tree: one Debian package, libant-dev, holding
# everything `cmake --install` installs. Not "ant": Debian's ant is Apache
# Ant, whose higher version apt would take for an upgrade of this one.
#
# A package installs into /usr whatever prefix this build was configured
# for, so it has a layout of its own, Debian's (installed as the component
# "deb", which only cpack asks for; see install-layout.cmake):
#   - the libraries, the CMake package and the pkg-config files in the
#     multiarch libdir, as GNUInstallDirs gives for the prefix /usr;
#   - the gdb extension in a directory of that libdir, not under share,
#     because the native walker beside it is built for one architecture;
#   - the auto-load scripts under /usr/share/gdb/auto-load, followed by
#     the libraries' directory: there gdb finds them for the libraries'
#     real names, and runs them without any setting, as it is on gdb's
#     default auto-load safe path.
set(ANT_DEB_PREFIX /usr)
if(CMAKE_LIBRARY_ARCHITECTURE)
  set(ANT_DEB_LIBDIR lib/${CMAKE_LIBRARY_ARCHITECTURE})
else()
  set(ANT_DEB_LIBDIR lib)
endif()
set(ANT_DEB_CMAKEDIR ${ANT_DEB_LIBDIR}/cmake/ant)
set(ANT_DEB_PKGCONFIGDIR ${ANT_DEB_LIBDIR}/pkgconfig)
set(ANT_DEB_GDBDIR ${ANT_DEB_LIBDIR}/ant/gdb)
set(ANT_DEB_AUTOLOADDIR share/gdb/auto-load${ANT_DEB_PREFIX}/${ANT_DEB_LIBDIR})
ant_install_layout(COMPONENT deb
  LIBDIR ${ANT_DEB_LIBDIR}
  CMAKEDIR ${ANT_DEB_CMAKEDIR}
  PKGCONFIGDIR ${ANT_DEB_PKGCONFIGDIR}
  GDBDIR ${ANT_DEB_GDBDIR}
  AUTOLOADDIR ${ANT_DEB_AUTOLOADDIR})

set(ANT_PACKAGE_MAINTAINER "Ant maintainers <maintainers@users.noreply.r-seed-d62d8d17.example>"
  CACHE STRING "The Maintainer field of the Debian package: name <email>.")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME libant-dev)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${ANT_PACKAGE_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION "\
Ant keeps every block's metadata in a documented layout, with sentinels,
poison and a journal, so that corruption is caught when it happens and a
live process or a core file can be read whole without calling into it.
This package holds libant (the ant_* API, shared and static), libantmalloc
(a drop-in for the C library's malloc family, by linking or LD_PRELOAD),
the headers, a CMake package (find_package(ant)), pkg-config files, and
the gdb extension (ant-heap, ant-walk, ant-check, ant-block and more)
with its native walker. gdb loads the extension by itself for any program
that loads either library.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
# Depends from what the shared objects link (dpkg-shlibdeps, of dpkg-dev);
# a shlibs file for packages built against this one, and the ldconfig
# trigger that comes with it.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS gdb)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Read by cpack, per generator: a DEB takes the Debian layout.
set(CPACK_ANT_DEB_PREFIX ${ANT_DEB_PREFIX})
set(CPACK_ANT_DEB_PROJECT "${PROJECT_BINARY_DIR};${PROJECT_NAME};deb;/")
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_LIST_DIR}/package-generator.cmake)

include(CPack)
