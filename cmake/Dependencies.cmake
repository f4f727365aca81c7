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
find_package(prometheus-cpp REQUIRED)
find_package(PkgConfig REQUIRED)
# librdkafka ships no CMake package; PEERS.md: link rdkafka++ and rdkafka together.
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka++ rdkafka)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
pkg_check_modules(NETSNMP REQUIRED IMPORTED_TARGET netsnmp)

# edgepoll::allocator: linked by executables only (the daemon, the pollers
# benchmark), never by a library. Every poll allocates and frees libcurl's
# receive buffer and request state; after a burst (a 2 s stall with 10,000
# devices due at once) glibc's heap stayed fragmented: RSS per device went from
# 4 KB to 21 KB and malloc from 7 % to 13 % of the poller's CPU, and stayed so.
# jemalloc hands the memory back (bench/RESULTS.md, Pollers, "jemalloc").
# Sanitizers bring their own malloc.
add_library(edgepoll_allocator INTERFACE)
add_library(edgepoll::allocator ALIAS edgepoll_allocator)
if(EDGEPOLL_ALLOCATOR STREQUAL "jemalloc" AND NOT EDGEPOLL_SANITIZE)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
  target_link_libraries(edgepoll_allocator INTERFACE PkgConfig::JEMALLOC)
elseif(NOT EDGEPOLL_ALLOCATOR MATCHES "^(jemalloc|system)$")
  message(FATAL_ERROR "EDGEPOLL_ALLOCATOR is '${EDGEPOLL_ALLOCATOR}'; expected 'jemalloc' or 'system'")
endif()
if(EDGEPOLL_BUILD_TESTS)
  find_package(GTest REQUIRED)
  find_package(rapidcheck REQUIRED)
endif()
if(EDGEPOLL_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# Asio is used header-only and standalone of Boost.System's compiled part.
add_compile_definitions(BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_DATE_TIME)
