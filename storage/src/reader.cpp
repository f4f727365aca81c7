#include "edgepoll/storage/reader.hpp"

#include "dead_letters.hpp"
#include "sqlite.hpp"

namespace edgepoll::storage {
namespace {

std::optional<std::int64_t> optional_int(const Statement& q, int col) {
  if (q.is_null(col)) return std::nullopt;
  return q.int64(col);
}

DeviceState device_state_row(const Statement& q) {
  std::optional<std::string> reason;
  if (!q.is_null(6)) reason = q.text(6);
  return DeviceState{q.text(0), q.int64(1), optional_int(q, 2), q.int64(3), optional_int(q, 4), q.int64(5),
                     std::move(reason)};
}

// Steps `q` to the end, turning each row into a T with `row`.
template <class T, class Row>
Result<std::vector<T>> all_rows(Statement& q, std::string_view what, Row row) {
  std::vector<T> out;
  for (;;) {
    auto r = q.step(what);
    if (!r) return r.take_error();
    if (!*r) return out;
    out.push_back(row(q));
  }
}

constexpr const char* kDeviceColumns =
    "SELECT device_id, last_seq, last_good_poll_ms, consecutive_failures, quarantine_until_ms, "
    "quarantine_attempt, quarantine_reason FROM device_state";

}  // namespace

Result<Reader> Reader::open(const StoreConfig& config) {
  auto c = Connection::open(config.path, SQLITE_OPEN_READONLY, config.busy_timeout_ms);
  if (!c) return c.take_error();
  return Reader(std::make_unique<Connection>(std::move(*c)));
}

Reader::Reader(std::unique_ptr<Connection> c) : conn_(std::move(c)) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

Result<std::vector<DeadLetter>> Reader::dead_letters(std::size_t limit, std::int64_t after_id) {
  return list_dead_letters(*conn_, limit, after_id);
}

Result<std::optional<DeadLetter>> Reader::dead_letter(const std::string& key) { return find_dead_letter(*conn_, key); }

Result<std::optional<DeviceState>> Reader::device_state(const std::string& device_id) {
  auto q = conn_->prepare((std::string(kDeviceColumns) + " WHERE device_id = ?1").c_str());
  if (!q) return q.take_error();
  q->bind_text(1, device_id);
  auto rows = all_rows<DeviceState>(*q, "reading a device's state", device_state_row);
  if (!rows) return rows.take_error();
  if (rows->empty()) return std::optional<DeviceState>();
  return std::optional<DeviceState>(std::move(rows->front()));
}

Result<std::vector<DeviceState>> Reader::device_states() {
  auto q = conn_->prepare((std::string(kDeviceColumns) + " ORDER BY device_id").c_str());
  if (!q) return q.take_error();
  return all_rows<DeviceState>(*q, "listing device states", device_state_row);
}

Result<OutboxDepth> Reader::outbox_depth() {
  auto q = conn_->prepare(
      "SELECT count(*), (SELECT ts_ms FROM outbox ORDER BY id LIMIT 1), "
      "(SELECT page_count FROM pragma_page_count) - (SELECT freelist_count FROM "
      "pragma_freelist_count), (SELECT page_size FROM pragma_page_size) FROM outbox");
  if (!q) return q.take_error();
  auto r = q->step("measuring the outbox");
  if (!r) return r.take_error();
  return OutboxDepth{q->int64(0), optional_int(*q, 1), q->int64(2) * q->int64(3)};
}

Result<std::int64_t> Reader::dead_letter_count() {
  return conn_->scalar("SELECT count(*) FROM dead_letters", "counting dead letters");
}

}  // namespace edgepoll::storage
