# ant.pc and antmalloc.pc. pkg-config sets ${pcfiledir} to the directory of
# the .pc file it reads, so a prefix relative to it survives a move.
# Part of ant_install_layout() (install-layout.cmake), whose layout_*
# variables it reads.
if(IS_ABSOLUTE "${layout_PKGCONFIGDIR}")
  set(ANT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH up /prefix/${layout_PKGCONFIGDIR} /prefix)
  string(REGEX REPLACE "/$" "" up "${up}")
  set(ANT_PC_PREFIX "\${pcfiledir}/${up}")
endif()

# A directory as the .pc file says it: under ${prefix} unless absolute.
function(ant_pc_dir out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
ant_pc_dir(ANT_PC_LIBDIR ${layout_LIBDIR})
ant_pc_dir(ANT_PC_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})

set(ANT_PC_PRIVATE_LIBS -pthread)
foreach(lib ${CMAKE_DL_LIBS})
  string(APPEND ANT_PC_PRIVATE_LIBS " -l${lib}")
endforeach()

set(ANT_PC_LIB ant)
set(ANT_PC_DESCRIPTION "${PROJECT_DESCRIPTION}: the ant_* API, beside the C library's malloc")
configure_file(${CMAKE_CURRENT_LIST_DIR}/ant.pc.in ${layout_BINARY_DIR}/ant.pc @ONLY)

set(ANT_PC_LIB antmalloc)
set(ANT_PC_DESCRIPTION "${PROJECT_DESCRIPTION}: the C library's malloc family served by Ant")
configure_file(${CMAKE_CURRENT_LIST_DIR}/ant.pc.in ${layout_BINARY_DIR}/antmalloc.pc @ONLY)

install(FILES ${layout_BINARY_DIR}/ant.pc ${layout_BINARY_DIR}/antmalloc.pc
  DESTINATION ${layout_PKGCONFIGDIR} ${layout_ONLY})
