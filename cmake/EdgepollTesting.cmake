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
  gtest_discover_tests(${target}
    TEST_PREFIX "${subsystem}."
    DISCOVERY_TIMEOUT 60
    PROPERTIES TIMEOUT ${ARG_TIMEOUT})
  # The labels are set by a script run after the discovered tests are added:
  # gtest_discover_tests' PROPERTIES splits a list value ("LABELS system chaos"
  # kept only the subsystem's label, and ctest -L chaos found nothing).
  set(label_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake)
  file(WRITE ${label_file}
       "if(${target}_TESTS)\n  set_tests_properties(\${${target}_TESTS} PROPERTIES LABELS \"${labels}\")\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${label_file})
endfunction()
