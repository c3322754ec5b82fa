# Install rules: header, shared and static library, the shrink binary, a
# relocatable libcompress.pc and a CMake package config (imported targets
# libcompress::libcompress and libcompress::libcompress_static).
include(CMakePackageConfigHelpers)

set(LC_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/libcompress")

# The static library's dependencies as an installed consumer finds them
# (see libcompressConfig.cmake.in); the build tree uses its own targets.
target_link_libraries(libcompress_static PUBLIC "$<INSTALL_INTERFACE:PkgConfig::libcompress_deps;pthread;m>")
set_target_properties(libcompress PROPERTIES EXPORT_NAME libcompress)
set_target_properties(libcompress_static PROPERTIES EXPORT_NAME libcompress_static)

install(TARGETS libcompress EXPORT libcompressTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS libcompress_static EXPORT libcompressStaticTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS shrink RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES "${CMAKE_SOURCE_DIR}/libcompress/include/libcompress.h" "${CMAKE_SOURCE_DIR}/libcompress/include/lc_compile.h" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(EXPORT libcompressTargets NAMESPACE libcompress:: DESTINATION ${LC_CMAKE_INSTALL_DIR})
install(EXPORT libcompressStaticTargets NAMESPACE libcompress:: DESTINATION ${LC_CMAKE_INSTALL_DIR})
configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/libcompressConfig.cmake.in"
  "${CMAKE_BINARY_DIR}/libcompressConfig.cmake" INSTALL_DESTINATION ${LC_CMAKE_INSTALL_DIR})
# 0.x: a new minor version may change the API
write_basic_package_version_file("${CMAKE_BINARY_DIR}/libcompressConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_BINARY_DIR}/libcompressConfig.cmake" "${CMAKE_BINARY_DIR}/libcompressConfigVersion.cmake"
  DESTINATION ${LC_CMAKE_INSTALL_DIR})

# prefix relative to the .pc file, so the installed tree can be moved
file(RELATIVE_PATH LC_PC_RELATIVE_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" LC_PC_RELATIVE_PREFIX "${LC_PC_RELATIVE_PREFIX}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/libcompress.pc.in" "${CMAKE_BINARY_DIR}/libcompress.pc" @ONLY)
install(FILES "${CMAKE_BINARY_DIR}/libcompress.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
