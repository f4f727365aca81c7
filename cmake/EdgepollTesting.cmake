include(GoogleTest)

# edgepoll_gtest(<subsystem> <name> SOURCES ... LIBS ... [LABELS ...] [TIMEOUT seconds, default 300])
# Builds one test binary and registers its cases as "<subsystem>.<Suite>.<Case>",
# so that `ctest -R <subsystem>` runs exactly one subsystem.
function(edgepoll_gtest subsystem name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set(target ${subsystem}_${name})
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  # "<subsystem>_tests" builds every test binary of one subsystem (used by the
  # sanitizer runs in scripts/test).
  if(NOT TARGET ${subsystem}_tests)
    add_custom_target(${subsystem}_tests)
  endif()
  add_dependencies(${subsystem}_tests ${target})
  set(labels ${subsystem} ${ARG_LABELS})
  # PROPERTIES takes name/value pairs: a bare list would split into "LABELS
  # system chaos", leaving only the subsystem's label (ctest -L chaos found nothing).
  string(REPLACE ";" "\\;" labels "${labels}")
  gtest_discover_tests(${target}
    TEST_PREFIX "${subsystem}."
    DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${labels}" TIMEOUT ${ARG_TIMEOUT})
endfunction()
