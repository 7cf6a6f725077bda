# Proves the Debian package of the build at BUILD_DIR whole and usable:
# makes it with `cpack -G DEB` under WORK_DIR, then
#   1. checks its control fields: name, version, dpkg's architecture, a
#      maintainer, Depends computed by dpkg-shlibdeps, gdb recommended;
#   2. checks the files it lists (dpkg-deb -c) are where Debian's tools
#      look: the libraries in the multiarch libdir, the pkg-config files on
#      pkg-config's default path, the auto-load scripts where gdb looks
#      for them without being told;
#   3. checks it holds every file that `cmake --install` installs;
#   4. unpacks it (dpkg-deb -x) into a scratch root and builds programs
#      against that with find_package(ant) and with pkg-config;
#   5. runs one of them under gdb with the unpacked extension: ant-heap and
#      ant-check at a breakpoint, walking with the package's native walker;
#      then checks each auto-load script finds the extension beside it.
# The variables are set by tests/install/CMakeLists.txt; DEB_*DIR are the
# package's directories, relative to DEB_PREFIX.

cmake_minimum_required(VERSION 3.20)
include(${CMAKE_CURRENT_LIST_DIR}/helpers.cmake)
require(CPACK cpack cmake)
require(DPKG dpkg dpkg)
require(DPKG_DEB dpkg-deb dpkg)
require(DPKG_SHLIBDEPS dpkg-shlibdeps dpkg-dev)
require(DPKG_ARCHITECTURE dpkg-architecture dpkg-dev)
require(PKG_CONFIG pkg-config pkg-config)
require(GDB gdb gdb)

file(REMOVE_RECURSE ${WORK_DIR})
set(root ${WORK_DIR}/root)
set(bin ${WORK_DIR}/bin)
file(MAKE_DIRECTORY ${bin})
if(CONFIG)
  set(config --config ${CONFIG})
  set(cpack_config -C ${CONFIG})
endif()

# The package, made as the README says, but under WORK_DIR.
run(${CPACK} -G DEB --config ${BUILD_DIR}/CPackConfig.cmake -B ${WORK_DIR}/cpack ${cpack_config})
file(GLOB debs ${WORK_DIR}/cpack/*.deb)
list(LENGTH debs count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "cpack made ${count} .deb files, not one: ${debs}\n${output}")
endif()
set(deb ${debs})
get_filename_component(deb_name ${deb} NAME)
message(STATUS "made ${deb_name}")

# 1. The control fields.
run(${DPKG} --print-architecture)
string(STRIP "${output}" arch)
run(${DPKG_DEB} --field ${deb})
set(fields "\n${output}")
function(expect_field name pattern)
  string(REGEX MATCH "\n${name}: ([^\n]*)" line "${fields}")
  expect("the field ${name}" "${CMAKE_MATCH_1}" "${pattern}")
endfunction()
string(REPLACE "." "\\." version_pattern "${VERSION}")
expect_field(Package "^${PACKAGE}$")
expect_field(Version "^${version_pattern}$")
expect_field(Architecture "^${arch}$")
expect_field(Maintainer "^[^<]+ <[^>@]+@[^>]+>$")
expect_field(Description "^.+$")
expect_field(Depends "(^|, )libc6( |,|$)")
expect_field(Recommends "(^|, )gdb( |,|$)")
expect("the file name apt is told to install" "${deb_name}" "^${PACKAGE}_.*\\.deb$")

# 2. The files it lists, where Debian's tools look.
run(${DPKG_ARCHITECTURE} -qDEB_HOST_MULTIARCH)
string(REGEX MATCH "([^\n]+)\n*$" line "${output}")  # after any warning
string(STRIP "${CMAKE_MATCH_1}" multiarch)
string(REGEX REPLACE "^/" "" usr "${DEB_PREFIX}")
set(libdir ${usr}/${DEB_LIBDIR})
expect("the libraries' directory is the multiarch libdir" "${libdir}" "^usr/lib/${multiarch}$")

run(${PKG_CONFIG} --variable=pc_path pkg-config)
string(STRIP "${output}" pc_path)
string(REPLACE ":" ";" pc_path "${pc_path}")
if(NOT "/${usr}/${DEB_PKGCONFIGDIR}" IN_LIST pc_path)
  message(FATAL_ERROR "/${usr}/${DEB_PKGCONFIGDIR} is not on pkg-config's default path: ${pc_path}")
endif()
message(STATUS "ok: the pkg-config files are on pkg-config's default path")

# gdb runs <scripts-directory>/<the library's real file name>-gdb.py,
# without any setting where that directory is also on its safe path.
run(${GDB} -nx -batch -ex "show data-directory" -ex "show auto-load scripts-directory"
  -ex "show auto-load safe-path")
expect("gdb looks for auto-load scripts in its data directory, and trusts them"
  "${output}" "scripts is [^\n]*\\$datadir/auto-load[^\n]*\n[^\n]*safe[^\n]*\\$datadir/auto-load")
string(REGEX MATCH "data directory is \"/([^\"]*)\"" line "${output}")
set(autoload ${CMAKE_MATCH_1}/auto-load/${libdir})

run(${DPKG_DEB} --contents ${deb})
set(listed "\n${output}")
foreach(file
    ${usr}/include/ant/ant.h ${usr}/include/ant/layout.h
    ${libdir}/libant.so.${VERSION} ${libdir}/libant.a ${libdir}/libantmalloc.so.${VERSION}
    ${usr}/${DEB_CMAKEDIR}/ant-config.cmake ${usr}/${DEB_CMAKEDIR}/ant-config-version.cmake
    ${usr}/${DEB_CMAKEDIR}/ant-targets.cmake
    ${usr}/${DEB_PKGCONFIGDIR}/ant.pc ${usr}/${DEB_PKGCONFIGDIR}/antmalloc.pc
    ${usr}/${DEB_GDBDIR}/ant-gdb.py ${usr}/${DEB_GDBDIR}/antgdb/__init__.py
    ${usr}/${DEB_GDBDIR}/libantfastwalk.so
    ${autoload}/libant.so.${VERSION}-gdb.py ${autoload}/libantmalloc.so.${VERSION}-gdb.py)
  string(FIND "${listed}" " ./${file}\n" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "not in the package: /${file}\n${output}")
  endif()
endforeach()
foreach(lib ant antmalloc)
  foreach(link "lib${lib}.so -> lib${lib}.so.${SOVERSION}" "lib${lib}.so.${SOVERSION} -> lib${lib}.so.${VERSION}")
    string(FIND "${listed}" " ./${libdir}/${link}\n" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "not in the package: the symbolic link /${libdir}/${link}\n${output}")
    endif()
  endforeach()
endforeach()
message(STATUS "ok: every file listed, the auto-load scripts under /${autoload}")

# 3. Everything `cmake --install` installs: the layouts differ, the files'
# names do not.
run(${DPKG_DEB} --extract ${deb} ${root})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/installed ${config})
foreach(tree installed root)
  file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE ${WORK_DIR}/${tree} ${WORK_DIR}/${tree}/*)
  set(names_${tree} "")
  foreach(file ${files})
    get_filename_component(name ${file} NAME)
    list(APPEND names_${tree} ${name})
  endforeach()
  list(SORT names_${tree})
endforeach()
if(NOT names_installed STREQUAL names_root)
  # Names repeat (README.md), so each one found is struck off once.
  set(extra ${names_root})
  set(missing "")
  foreach(name ${names_installed})
    list(FIND extra ${name} at)
    if(at EQUAL -1)
      list(APPEND missing ${name})
    else()
      list(REMOVE_AT extra ${at})
    endif()
  endforeach()
  message(FATAL_ERROR "the package and `cmake --install` differ:\n"
    "  installed, not in the package: ${missing}\n  in the package, not installed: ${extra}")
endif()
message(STATUS "ok: the package holds every file `cmake --install` installs")

# 4. Programs built against the unpacked package.
set(consumer ${WORK_DIR}/consumer)
run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${consumer} -G ${GENERATOR}
  -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_RUNTIME_OUTPUT_DIRECTORY_RELEASE=${bin}
  -DCMAKE_PREFIX_PATH=${root}/${usr} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
file(STRINGS ${consumer}/CMakeCache.txt ant_dir REGEX "^ant_DIR:")
string(REGEX REPLACE "^[^=]*=" "" ant_dir "${ant_dir}")
expect_inside("find_package found the unpacked package" "${ant_dir}" ${root})
run(${CMAKE_COMMAND} --build ${consumer} --config Release)
foreach(program uses-ant uses-ant-static uses-antmalloc)
  run(${bin}/${program})
  expect("find_package: ${program}" "${output}" "^ok")
endforeach()

# pkg-config reads only the package's files, not the system's.
set(ENV{PKG_CONFIG_LIBDIR} ${root}/${usr}/${DEB_PKGCONFIGDIR})
unset(ENV{PKG_CONFIG_PATH})
foreach(package ant antmalloc)
  run(${PKG_CONFIG} --cflags --libs ${package})
  separate_arguments(flags UNIX_COMMAND "${output}")
  run(${PKG_CONFIG} --variable=libdir ${package})
  string(STRIP "${output}" pc_libdir)
  get_filename_component(pc_libdir ${pc_libdir} REALPATH)
  if(NOT pc_libdir STREQUAL "${root}/${libdir}")
    message(FATAL_ERROR "pkg-config: ${package}'s libdir is ${pc_libdir}, not ${root}/${libdir}")
  endif()
  message(STATUS "ok: pkg-config: ${package}'s libdir is the package's")
  run(${C_COMPILER} ${CONSUMER_DIR}/uses-${package}.c ${flags} -Wl,-rpath,${pc_libdir} -o ${bin}/pc-uses-${package})
  run(${bin}/pc-uses-${package})
  expect("pkg-config: uses-${package}" "${output}" "^ok")
endforeach()

# 5. gdb with the unpacked extension, on a program stopped inside the
# unpacked libant, the walk in the package's native walker.
unset(ENV{ANT_GDB_NATIVE})
set(settings -nx -batch -iex "set pagination off" -iex "set confirm off" -iex "set width 0"
  -iex "set style enabled off" -iex "set breakpoint pending on")
set(describe -ex "python from antgdb import native" -ex "python print(native.describe())")
function(expect_clean what)
  if(output MATCHES "Traceback|Python Exception|Undefined command")
    message(FATAL_ERROR "${what}: gdb did not load the extension cleanly:\n${output}")
  endif()
endfunction()
function(expect_native what)
  string(REGEX MATCH "\n(native|python) \\(([^\n]*)\\)" line "${output}")
  if(NOT CMAKE_MATCH_2 STREQUAL "${root}/${usr}/${DEB_GDBDIR}/libantfastwalk.so")
    message(FATAL_ERROR "${what}: the walker is not the package's native one: ${line}\n${output}")
  endif()
  message(STATUS "ok: ${what}: the extension walks with the package's native walker")
endfunction()

run(${GDB} ${settings}
  -ex "source ${root}/${usr}/${DEB_GDBDIR}/ant-gdb.py"
  -ex "break ant_check" -ex "run" -ex "info sharedlibrary"
  -ex "ant-heap" -ex "ant-check" ${describe}
  --args ${bin}/uses-ant)
expect("gdb stopped at the breakpoint" "${output}" "Breakpoint 1, [^\n]*ant_check")
string(FIND "${output}" "${root}/${libdir}/libant.so.${SOVERSION}\n" at)
if(at EQUAL -1)
  message(FATAL_ERROR "the program did not load the package's libant:\n${output}")
endif()
expect("ant-heap" "${output}" "Ant heap at 0x[^\n]*\n.*\n +problems +0\n")
expect("ant-check" "${output}" "ant-check: OK")
expect_native("ant-gdb.py")
expect_clean("ant-gdb.py")

# Each auto-load script is named after its library's real file name, and
# finds the extension by a path relative to itself.
foreach(lib ant antmalloc)
  file(REAL_PATH ${root}/${libdir}/lib${lib}.so.${SOVERSION} real)
  get_filename_component(real ${real} NAME)
  set(script ${root}/${autoload}/${real}-gdb.py)
  if(NOT EXISTS ${script})
    message(FATAL_ERROR "no auto-load script for ${real}: ${script}")
  endif()
  run(${GDB} ${settings} -ex "source ${script}" -ex "help ant-heap" ${describe})
  expect_native("the auto-load script of lib${lib}")
  expect_clean("the auto-load script of lib${lib}")
endforeach()
