#pragma once
// The little of BER (X.690) that an SNMPv2c agent needs: reading a GET,
// GETNEXT or GETBULK message and writing its Response. Everything read is
// bounds-checked; a datagram that is not such a message decodes to nullopt
// (the agent drops it, as a real one does), never to a crash.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace edgepoll::devicesim::ber {

using Oid = std::vector<std::uint32_t>;

enum Tag : std::uint8_t {
  integer = 0x02,
  octet_string = 0x04,
  null = 0x05,
  object_id = 0x06,
  sequence = 0x30,
  counter32 = 0x41,
  gauge32 = 0x42,
  time_ticks = 0x43,
  no_such_object = 0x80,
  no_such_instance = 0x81,
  end_of_mib_view = 0x82,
  pdu_get = 0xa0,
  pdu_get_next = 0xa1,
  pdu_response = 0xa2,
  pdu_get_bulk = 0xa5,
};

struct Request {
  std::int64_t version = 0;  // 1: v2c
  std::string community;
  std::uint8_t pdu = 0;  // pdu_get, pdu_get_next or pdu_get_bulk
  std::int64_t request_id = 0;
  std::int64_t non_repeaters = 0;    // GETBULK (error-status otherwise, 0)
  std::int64_t max_repetitions = 0;  // GETBULK (error-index otherwise, 0)
  std::vector<Oid> oids;             // the varbinds' names; their values are ignored
};

// nullopt for anything but one well-formed SNMP message with a request PDU.
std::optional<Request> decode_request(std::span<const std::uint8_t> datagram);

struct Value {
  std::uint8_t tag = null;    // integer, octet_string, counter32, gauge32, time_ticks, or an exception
  std::int64_t number = 0;    // integer (signed) and the unsigned 32-bit types
  std::string text;           // octet_string
};

struct Varbind {
  Oid oid;
  Value value;
};

std::vector<std::uint8_t> encode_response(const Request& request, std::int64_t error_status,
                                          std::int64_t error_index, const std::vector<Varbind>& varbinds);

}  // namespace edgepoll::devicesim::ber
