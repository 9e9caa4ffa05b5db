# generated/entroscope_version.h: version and the git commit the binary was built from, for the
# reproducibility metadata in every results file. Refreshed at every build, not only when CMake
# configures: a header from configure time named an old commit in every file written after later
# commits (WriteVersion.cmake does the work).
set(ENTROSCOPE_VERSION_HEADER ${CMAKE_BINARY_DIR}/generated/entroscope_version.h)
set(_write_version ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUTPUT=${ENTROSCOPE_VERSION_HEADER}
    -DPROJECT_VERSION=${PROJECT_VERSION} -P ${CMAKE_SOURCE_DIR}/cmake/WriteVersion.cmake)
execute_process(COMMAND ${_write_version})  # so that the header exists before the first build
add_custom_target(entroscope_version COMMAND ${_write_version} BYPRODUCTS ${ENTROSCOPE_VERSION_HEADER}
                  COMMENT "Recording the git commit in entroscope_version.h" VERBATIM)
