# Script mode (cmake -P), run at every build by the entroscope_version target (Version.cmake):
# writes OUTPUT from cmake/entroscope_version.h.in with the commit SOURCE_DIR is at, "-dirty" when
# tracked files differ from it. configure_file rewrites the header only when its text changes, so
# an unchanged commit recompiles nothing.
set(ENTROSCOPE_GIT_HASH "unknown")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS ${SOURCE_DIR}/.git)
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
    WORKING_DIRECTORY ${SOURCE_DIR} OUTPUT_VARIABLE _hash OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _rc ERROR_QUIET)
  if(_rc EQUAL 0)
    set(ENTROSCOPE_GIT_HASH "${_hash}")
    execute_process(COMMAND ${GIT_EXECUTABLE} status --porcelain --untracked-files=no
      WORKING_DIRECTORY ${SOURCE_DIR} OUTPUT_VARIABLE _dirty ERROR_QUIET)
    if(NOT _dirty STREQUAL "")
      set(ENTROSCOPE_GIT_HASH "${ENTROSCOPE_GIT_HASH}-dirty")
    endif()
  endif()
endif()
configure_file(${SOURCE_DIR}/cmake/entroscope_version.h.in ${OUTPUT} @ONLY)
