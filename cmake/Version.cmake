# generated/entroscope_version.h: version and the git commit the binary was built from, for the
# reproducibility metadata in every results file.
find_package(Git QUIET)
set(ENTROSCOPE_GIT_HASH "unknown")
if(GIT_FOUND AND EXISTS ${CMAKE_SOURCE_DIR}/.git)
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE _hash OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _rc ERROR_QUIET)
  if(_rc EQUAL 0)
    set(ENTROSCOPE_GIT_HASH "${_hash}")
    execute_process(COMMAND ${GIT_EXECUTABLE} status --porcelain --untracked-files=no
      WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} OUTPUT_VARIABLE _dirty ERROR_QUIET)
    if(NOT _dirty STREQUAL "")
      set(ENTROSCOPE_GIT_HASH "${ENTROSCOPE_GIT_HASH}-dirty")
    endif()
  endif()
endif()
configure_file(${CMAKE_SOURCE_DIR}/cmake/entroscope_version.h.in
  ${CMAKE_BINARY_DIR}/generated/entroscope_version.h @ONLY)
