// edgepollctl dlq list / show / replay / drop. Reads open the state DB
// read-only; replay and drop go over the control socket (the daemon's writer
// is the store's only writer).
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "edgepoll/storage/reader.hpp"
#include "edgepoll/supervision/clock.hpp"
#include "output.hpp"

namespace edgepoll::ctl {

namespace {

// The record as text when it is printable UTF-8-ish, else as escaped bytes.
std::string printable(const std::string& bytes) {
  std::string out;
  for (unsigned char ch : bytes) {
    if (ch == '\n' || ch == '\t' || (ch >= 0x20 && ch != 0x7f)) out += static_cast<char>(ch);
    else out += fmt::format("\\x{:02x}", ch);
  }
  return out;
}

nlohmann::json to_json(const storage::DeadLetter& d, bool with_record) {
  nlohmann::json j = {{"id", d.id},           {"source", storage::to_string(d.source)},
                      {"key", d.record_key},  {"reason", d.reason},
                      {"first_seen", utc_time(d.first_seen_ms)}, {"last_seen", utc_time(d.last_seen_ms)},
                      {"count", d.count}};
  if (with_record) j["record"] = printable(d.record);
  return j;
}

Result<storage::Reader> open_store(const Context& c) {
  auto reader = storage::Reader::open(c.config().storage);
  if (!reader.ok()) {
    Error e = reader.take_error();
    e.hint = "edgepollctl reads the state DB named by the config's [storage] path (--config)";
    return e;
  }
  return reader;
}

}  // namespace

int run_dlq_list(const Context& c, const std::string& source, const std::string& since) {
  std::optional<std::int64_t> since_ms;
  if (!since.empty()) {
    auto s = parse_since(since, supervision::wall_clock_ms());
    if (!s.ok()) return fail(s.error(), c.json());
    since_ms = s.value();
  }
  auto reader = open_store(c);
  if (!reader.ok()) return fail(reader.error(), c.json());
  std::vector<storage::DeadLetter> shown;
  for (std::int64_t after = 0;;) {  // in pages, so a large table is not one allocation
    auto page = reader->dead_letters(1000, after);
    if (!page.ok()) return fail(page.error(), c.json());
    if (page->empty()) break;
    after = page->back().id;
    for (auto& d : page.value()) {
      if (!source.empty() && source != storage::to_string(d.source)) continue;
      if (since_ms && d.last_seen_ms < *since_ms) continue;
      shown.push_back(std::move(d));
    }
  }
  if (c.json()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : shown) out.push_back(to_json(d, false));
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : shown) {
    rows.push_back({std::to_string(d.id), storage::to_string(d.source), d.record_key, std::to_string(d.count),
                    utc_time(d.first_seen_ms), utc_time(d.last_seen_ms), d.reason});
  }
  print_table({"ID", "SOURCE", "KEY", "COUNT", "FIRST SEEN", "LAST SEEN", "REASON"}, rows);
  return kExitOk;
}

int run_dlq_show(const Context& c, const std::string& key) {
  auto reader = open_store(c);
  if (!reader.ok()) return fail(reader.error(), c.json());
  auto letter = reader->dead_letter(key);
  if (!letter.ok()) return fail(letter.error(), c.json());
  if (!*letter) return fail(make_error("dlq.not_found", "no dead letter with key '" + key + "' (edgepollctl dlq list)"), c.json());
  const auto j = to_json(**letter, true);
  if (c.json()) {
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  for (const char* k : {"id", "source", "key", "count", "first_seen", "last_seen", "reason", "record"}) {
    std::cout << k << ": " << (j[k].is_string() ? j[k].get<std::string>() : j[k].dump()) << "\n";
  }
  return kExitOk;
}

int run_dlq_replay(const Context& c, const std::string& key, bool all) {
  nlohmann::json request = {{"op", "dlq.replay"}};
  if (all) request["all"] = true;
  else request["key"] = key;
  auto answer = c.control(request);
  if (!answer.ok()) return fail(answer.error(), c.json());
  const auto n = answer->value("replayed", nlohmann::json::array()).size();
  return print_answer(answer.value(), c.json(), all ? std::to_string(n) + " dead letters replayed" : "replayed " + key);
}

int run_dlq_drop(const Context& c, const std::string& key, bool all, const std::string& reason) {
  nlohmann::json request = {{"op", "dlq.drop"}, {"reason", reason}};
  if (all) request["all"] = true;
  else request["key"] = key;
  auto answer = c.control(request);
  if (!answer.ok()) return fail(answer.error(), c.json());
  const auto n = answer->value("dropped", nlohmann::json::array()).size();
  return print_answer(answer.value(), c.json(), all ? std::to_string(n) + " dead letters dropped" : "dropped " + key);
}

}  // namespace edgepoll::ctl
