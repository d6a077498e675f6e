# `cmake --install build --prefix P` installs the CLI, the public headers, the static
# libraries and a CMake package, so that another project can write
#   find_package(disc CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE disc::disc)        # or one role: disc::disc_codec, ...
# tests/install/ builds such a project against an installed tree.
include(CMakePackageConfigHelpers)

# Every library at once, for users who do not want to pick roles.
add_library(disc_library INTERFACE)
target_link_libraries(disc_library INTERFACE disc_codec disc_onnx disc_model disc_plan disc_eval disc_net)
set_target_properties(disc_library PROPERTIES EXPORT_NAME disc)

set(DISC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/disc)
install(TARGETS disc RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS disc_library disc_codec disc_onnx disc_model disc_opencv disc_plan disc_eval disc_proto disc_net
        EXPORT discTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/disc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT discTargets NAMESPACE disc:: DESTINATION ${DISC_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/discConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/discConfig.cmake INSTALL_DESTINATION ${DISC_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/discConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/discConfig.cmake ${PROJECT_BINARY_DIR}/discConfigVersion.cmake
        DESTINATION ${DISC_CMAKE_DIR})
