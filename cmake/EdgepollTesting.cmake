include(GoogleTest)

# edgepoll_gtest(<subsystem> <name> SOURCES ... LIBS ... [LABELS ...] [TIMEOUT seconds, default 300]
#                [RUN_SERIAL])
# RUN_SERIAL: a test that loads the whole machine (the soak) runs alone, so
# that neither it nor its neighbours miss deadlines for the other's sake.
# Builds one test binary and registers its cases as "<subsystem>.<Suite>.<Case>",
# so that `ctest -R <subsystem>` runs exactly one subsystem.
function(edgepoll_gtest subsystem name)
  cmake_parse_arguments(ARG "RUN_SERIAL" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set(target ${subsystem}_${name})
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests)  # tests/support/*.hpp
  # Test sources each keep their own helpers at namespace scope (config(),
  # kMapping, ...): they are compiled one by one even in a unity build.
  set_target_properties(${target} PROPERTIES UNITY_BUILD OFF)
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
  set(serial "")
  if(ARG_RUN_SERIAL)
    set(serial " RUN_SERIAL TRUE")
  endif()
  set(label_file ${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake)
  file(WRITE ${label_file}
       "if(${target}_TESTS)\n  set_tests_properties(\${${target}_TESTS} PROPERTIES LABELS \"${labels}\"${serial})\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${label_file})
endfunction()
