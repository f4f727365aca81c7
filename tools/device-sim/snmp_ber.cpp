#include "snmp_ber.hpp"

namespace edgepoll::devicesim::ber {

namespace {

// A cursor over the bytes of one TLV's contents.
struct Reader {
  std::span<const std::uint8_t> bytes;
  std::size_t at = 0;

  bool done() const { return at == bytes.size(); }

  // The next TLV's tag and contents; nullopt when it does not fit.
  std::optional<std::pair<std::uint8_t, Reader>> next() {
    if (bytes.size() - at < 2) return std::nullopt;
    const std::uint8_t tag = bytes[at++];
    std::size_t length = bytes[at++];
    if (length & 0x80) {
      const std::size_t n = length & 0x7f;
      if (n == 0 || n > 4 || bytes.size() - at < n) return std::nullopt;  // indefinite or absurd
      length = 0;
      for (std::size_t i = 0; i < n; ++i) length = (length << 8) | bytes[at++];
    }
    if (bytes.size() - at < length) return std::nullopt;
    Reader inner{bytes.subspan(at, length)};
    at += length;
    return std::pair{tag, inner};
  }

  std::optional<Reader> expect(std::uint8_t tag) {
    auto t = next();
    if (!t || t->first != tag) return std::nullopt;
    return t->second;
  }

  std::optional<std::int64_t> integer() {
    auto r = expect(Tag::integer);
    if (!r || r->bytes.empty() || r->bytes.size() > 8) return std::nullopt;
    std::int64_t v = static_cast<std::int8_t>(r->bytes[0]);  // sign from the first byte
    for (std::size_t i = 1; i < r->bytes.size(); ++i) v = static_cast<std::int64_t>(static_cast<std::uint64_t>(v) << 8) | r->bytes[i];
    return v;
  }

  std::optional<Oid> oid() {
    auto r = expect(Tag::object_id);
    if (!r || r->bytes.empty() || r->bytes.size() > 256) return std::nullopt;
    Oid out;
    std::uint64_t sub = 0;
    for (std::size_t i = 0; i < r->bytes.size(); ++i) {
      sub = (sub << 7) | (r->bytes[i] & 0x7f);
      if (sub > 0xffffffffu) return std::nullopt;
      if (r->bytes[i] & 0x80) continue;
      if (out.empty()) {  // the first byte holds two arcs: 40 * x + y
        const auto x = std::min<std::uint64_t>(sub / 40, 2);
        out.push_back(static_cast<std::uint32_t>(x));
        out.push_back(static_cast<std::uint32_t>(sub - 40 * x));
      } else {
        out.push_back(static_cast<std::uint32_t>(sub));
      }
      sub = 0;
    }
    if (r->bytes.back() & 0x80) return std::nullopt;  // a sub-identifier cut short
    return out;
  }
};

void put_length(std::vector<std::uint8_t>& out, std::size_t n) {
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
    return;
  }
  std::uint8_t digits[4];
  int k = 0;
  for (; n != 0; n >>= 8) digits[k++] = static_cast<std::uint8_t>(n & 0xff);
  out.push_back(static_cast<std::uint8_t>(0x80 | k));
  while (k > 0) out.push_back(digits[--k]);
}

void put_tlv(std::vector<std::uint8_t>& out, std::uint8_t tag, const std::vector<std::uint8_t>& content) {
  out.push_back(tag);
  put_length(out, content.size());
  out.insert(out.end(), content.begin(), content.end());
}

// Two's complement, shortest form (a leading 0x00 keeps a positive value's top bit clear).
void put_integer(std::vector<std::uint8_t>& out, std::uint8_t tag, std::int64_t v) {
  std::vector<std::uint8_t> c;
  for (int shift = 56; shift >= 0; shift -= 8) c.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> shift));
  std::size_t skip = 0;
  while (skip + 1 < c.size() && ((c[skip] == 0x00 && !(c[skip + 1] & 0x80)) || (c[skip] == 0xff && (c[skip + 1] & 0x80))))
    ++skip;
  put_tlv(out, tag, std::vector<std::uint8_t>(c.begin() + static_cast<std::ptrdiff_t>(skip), c.end()));
}

void put_oid(std::vector<std::uint8_t>& out, const Oid& oid) {
  std::vector<std::uint8_t> c;
  auto arc = [&](std::uint64_t v) {
    std::uint8_t groups[10];
    int k = 0;
    do groups[k++] = static_cast<std::uint8_t>(v & 0x7f);
    while ((v >>= 7) != 0);
    while (k > 1) c.push_back(static_cast<std::uint8_t>(groups[--k] | 0x80));
    c.push_back(groups[0]);
  };
  arc(oid.size() >= 2 ? 40ull * oid[0] + oid[1] : 0);
  for (std::size_t i = 2; i < oid.size(); ++i) arc(oid[i]);
  put_tlv(out, Tag::object_id, c);
}

}  // namespace

std::optional<Request> decode_request(std::span<const std::uint8_t> datagram) {
  Reader top{datagram};
  auto message = top.expect(Tag::sequence);
  if (!message || !top.done()) return std::nullopt;
  Request r;
  auto version = message->integer();
  auto community = message->expect(Tag::octet_string);
  auto pdu = message->next();
  if (!version || !community || !pdu || !message->done()) return std::nullopt;
  r.version = *version;
  r.community.assign(community->bytes.begin(), community->bytes.end());
  r.pdu = pdu->first;
  if (r.pdu != Tag::pdu_get && r.pdu != Tag::pdu_get_next && r.pdu != Tag::pdu_get_bulk) return std::nullopt;
  Reader& body = pdu->second;
  auto id = body.integer();
  auto status = body.integer();
  auto index = body.integer();
  auto list = body.expect(Tag::sequence);
  if (!id || !status || !index || !list || !body.done()) return std::nullopt;
  r.request_id = *id;
  if (r.pdu == Tag::pdu_get_bulk) r.non_repeaters = *status, r.max_repetitions = *index;
  while (!list->done()) {
    auto varbind = list->expect(Tag::sequence);
    if (!varbind) return std::nullopt;
    auto name = varbind->oid();
    if (!name || !varbind->next() || !varbind->done()) return std::nullopt;
    r.oids.push_back(std::move(*name));
  }
  return r;
}

std::vector<std::uint8_t> encode_response(const Request& request, std::int64_t error_status,
                                          std::int64_t error_index, const std::vector<Varbind>& varbinds) {
  std::vector<std::uint8_t> list;
  for (const auto& vb : varbinds) {
    std::vector<std::uint8_t> one;
    put_oid(one, vb.oid);
    switch (vb.value.tag) {
      case Tag::integer:
      case Tag::counter32:
      case Tag::gauge32:
      case Tag::time_ticks: put_integer(one, vb.value.tag, vb.value.number); break;
      case Tag::octet_string:
        put_tlv(one, Tag::octet_string, std::vector<std::uint8_t>(vb.value.text.begin(), vb.value.text.end()));
        break;
      default: put_tlv(one, vb.value.tag, {}); break;  // NULL and the exceptions have no contents
    }
    put_tlv(list, Tag::sequence, one);
  }
  std::vector<std::uint8_t> pdu;
  put_integer(pdu, Tag::integer, request.request_id);
  put_integer(pdu, Tag::integer, error_status);
  put_integer(pdu, Tag::integer, error_index);
  put_tlv(pdu, Tag::sequence, list);
  std::vector<std::uint8_t> message;
  put_integer(message, Tag::integer, request.version);
  put_tlv(message, Tag::octet_string, std::vector<std::uint8_t>(request.community.begin(), request.community.end()));
  put_tlv(message, Tag::pdu_response, pdu);
  std::vector<std::uint8_t> out;
  put_tlv(out, Tag::sequence, message);
  return out;
}

}  // namespace edgepoll::devicesim::ber
