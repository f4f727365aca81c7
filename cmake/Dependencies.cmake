# Every third-party dependency comes from a Debian package installed by scripts/setup.
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS headers)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(CURL REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)
# librdkafka ships no CMake package; PEERS.md: link rdkafka++ and rdkafka together.
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka++ rdkafka)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
if(EDGEPOLL_BUILD_TESTS)
  find_package(GTest REQUIRED)
  find_package(rapidcheck REQUIRED)
endif()
if(EDGEPOLL_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# Asio is used header-only and standalone of Boost.System's compiled part.
add_compile_definitions(BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_DATE_TIME)
