# Proves an installed Ant usable, and relocatable: installs the build at
# BUILD_DIR under WORK_DIR, moves the installed tree elsewhere (so that any
# absolute path left inside it breaks what follows), then
#   1. checks every file is there, symbolic links included;
#   2. builds a CMake project that uses find_package(ant) and runs its
#      programs (ant::ant, ant::ant_static, ant::antmalloc);
#   3. compiles programs with the flags pkg-config gives and runs them;
#   4. has gdb load each library and checks it auto-loaded the extension.
# The variables are set by tests/install/CMakeLists.txt.

include(${CMAKE_CURRENT_LIST_DIR}/helpers.cmake)
require(PKG_CONFIG pkg-config pkg-config)
require(GDB gdb gdb)

file(REMOVE_RECURSE ${WORK_DIR})
set(staged ${WORK_DIR}/staged)
set(prefix ${WORK_DIR}/moved)
set(bin ${WORK_DIR}/bin)
file(MAKE_DIRECTORY ${bin})

if(CONFIG)
  set(config --config ${CONFIG})
endif()
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${staged} ${config})
file(RENAME ${staged} ${prefix})

# 1. The files.
foreach(lib ant antmalloc)
  foreach(link lib${lib}.so lib${lib}.so.${SOVERSION})
    if(NOT IS_SYMLINK ${prefix}/${LIBDIR}/${link})
      message(FATAL_ERROR "${LIBDIR}/${link} is not a symbolic link")
    endif()
  endforeach()
endforeach()
foreach(file
    ${INCLUDEDIR}/ant/ant.h ${INCLUDEDIR}/ant/layout.h
    ${LIBDIR}/libant.so.${VERSION} ${LIBDIR}/libant.a ${LIBDIR}/libantmalloc.so.${VERSION}
    ${CMAKEDIR}/ant-config.cmake ${CMAKEDIR}/ant-config-version.cmake ${CMAKEDIR}/ant-targets.cmake
    ${PKGCONFIGDIR}/ant.pc ${PKGCONFIGDIR}/antmalloc.pc
    ${GDBDIR}/ant-gdb.py ${GDBDIR}/antgdb/__init__.py ${GDBDIR}/libantfastwalk.so
    ${AUTOLOADDIR}/libant.so.${VERSION}-gdb.py ${AUTOLOADDIR}/libantmalloc.so.${VERSION}-gdb.py)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "not installed: ${file}")
  endif()
endforeach()
message(STATUS "ok: every file installed")

# 2. find_package(ant).
set(consumer ${WORK_DIR}/consumer)
run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${consumer} -G ${GENERATOR}
  -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_RUNTIME_OUTPUT_DIRECTORY_RELEASE=${bin}
  -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
file(STRINGS ${consumer}/CMakeCache.txt ant_dir REGEX "^ant_DIR:")
string(REGEX REPLACE "^[^=]*=" "" ant_dir "${ant_dir}")
expect_inside("find_package found the moved tree" "${ant_dir}" ${prefix})
run(${CMAKE_COMMAND} --build ${consumer} --config Release)
foreach(program uses-ant uses-ant-static uses-antmalloc)
  run(${bin}/${program})
  expect("find_package: ${program}" "${output}" "^ok")
endforeach()

# 3. pkg-config.
set(ENV{PKG_CONFIG_PATH} ${prefix}/${PKGCONFIGDIR})
foreach(package ant antmalloc)
  run(${PKG_CONFIG} --cflags --libs ${package})
  separate_arguments(flags UNIX_COMMAND "${output}")
  run(${PKG_CONFIG} --variable=libdir ${package})
  string(STRIP "${output}" libdir)
  get_filename_component(libdir ${libdir} REALPATH)
  expect_inside("pkg-config: ${package}'s libdir is in the moved tree" "${libdir}" ${prefix})
  run(${C_COMPILER} ${CONSUMER_DIR}/uses-${package}.c ${flags} -Wl,-rpath,${libdir} -o ${bin}/pc-uses-${package})
  run(${bin}/pc-uses-${package})
  expect("pkg-config: uses-${package}" "${output}" "^ok")
endforeach()

# 4. gdb auto-loads the extension for each library; loading it a second
# time, for the other library, must be harmless. The extension walks with
# the native walker installed beside it, unless told otherwise.
unset(ENV{ANT_GDB_NATIVE})
run(${GDB} -nx -batch -iex "add-auto-load-safe-path ${prefix}"
  -ex "file ${prefix}/${LIBDIR}/libant.so.${SOVERSION}"
  -ex "info auto-load python-scripts"
  -ex "file ${prefix}/${LIBDIR}/libantmalloc.so.${SOVERSION}"
  -ex "info auto-load python-scripts"
  -ex "help ant-heap"
  -ex "python from antgdb import native"
  -ex "python print(native.describe())")
expect("gdb auto-loaded the script of libant" "${output}" "Yes +[^\n]*/libant\\.so\\.${VERSION}-gdb\\.py")
expect("gdb auto-loaded the script of libantmalloc" "${output}" "Yes +[^\n]*/libantmalloc\\.so\\.${VERSION}-gdb\\.py")
expect("the installed extension walks natively" "${output}" "native \\([^\n]*/libantfastwalk\\.so\\)")
if(output MATCHES "Traceback|Error|Undefined command|declined")
  message(FATAL_ERROR "gdb did not load the extension cleanly:\n${output}")
endif()
message(STATUS "ok: gdb knows ant-heap")
