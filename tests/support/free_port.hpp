#pragma once
// A loopback port for a peer a test starts, chosen below the kernel's
// ephemeral range. The ports the kernel hands to other processes' sockets (a
// bind to 0, a client's connect) come from that range, so a port found free
// there can be taken by a parallel test between this check and the peer's own
// bind; below it, only another test's pick can, and picks are random.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <stdexcept>

namespace edgepoll::testing {

// `type`: SOCK_STREAM or SOCK_DGRAM.
inline std::uint16_t free_port_below_ephemeral_range(int type) {
  unsigned first_ephemeral = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> first_ephemeral;
  const unsigned low = 10000;
  const unsigned high = first_ephemeral > low + 1000 ? first_ephemeral - 1 : 65535;
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<unsigned> pick(low, high);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int fd = ::socket(AF_INET, type, 0);
    if (fd < 0) break;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(pick(rng)));
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (free) return ntohs(a.sin_port);
  }
  throw std::runtime_error("no free loopback port below the ephemeral range");
}

inline std::uint16_t free_loopback_port() {
  return free_port_below_ephemeral_range(SOCK_STREAM);
}
inline std::uint16_t free_udp_port() {
  return free_port_below_ephemeral_range(SOCK_DGRAM);
}

}  // namespace edgepoll::testing
