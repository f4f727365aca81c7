#include "edgepoll/pollers/snmp/snmp_poll.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "netsnmp.hpp"

namespace edgepoll::pollers {

namespace {
Error refused(const char* code, const std::string& what) { return make_error(code, what, false); }
}  // namespace

SnmpPoll::SnmpPoll(const SnmpDeviceConfig& config, SnmpAgent& agent, const supervision::Clock& clock,
                   Done done)
    : config_(config), agent_(agent), clock_(clock), done_(std::move(done)) {
  const std::size_t n = config_.metrics.size();
  response_.scalars.resize(n);
  response_.failed.resize(n);
  response_.tables.resize(config_.tables.size());
  // Batches in send order, kept as a stack: the back is sent next, so that the
  // halves of a split batch go before the batches after it.
  for (std::size_t first = 0; first < n; first += config_.max_oids_per_pdu) {
    std::vector<std::size_t> batch;
    for (std::size_t i = first; i < std::min(n, first + config_.max_oids_per_pdu); ++i) batch.push_back(i);
    batches_.push_back(std::move(batch));
  }
  std::reverse(batches_.begin(), batches_.end());
}

void SnmpPoll::start() {
  response_.taken_at = clock_.now();
  next();
}

template <class Handler>
void SnmpPoll::send(SnmpRequest request, Handler handler) {
  ++response_.requests;
  agent_.send(std::move(request), [self = shared_from_this(), handler](Result<SnmpReply> reply) mutable {
    handler(*self, std::move(reply));
  });
}

void SnmpPoll::next() {
  if (!batches_.empty()) {
    auto batch = std::move(batches_.back());
    batches_.pop_back();
    SnmpRequest r{SnmpRequest::Kind::get, {}, 0};
    for (auto i : batch) r.oids.push_back(config_.metrics[i].oid);
    send(std::move(r), [batch](SnmpPoll& p, Result<SnmpReply> reply) mutable {
      p.on_scalars(std::move(batch), std::move(reply));
    });
    return;
  }
  if (table_ < config_.tables.size()) {
    const auto& t = config_.tables[table_];
    column_oids_.clear();
    for (const auto& c : t.columns) column_oids_.push_back(c.oid);
    for (const auto& c : t.tags) column_oids_.push_back(c.oid);
    last_ = column_oids_;
    column_done_.assign(column_oids_.size(), false);
    walk_started_ = clock_.now();
    walk_step();
    return;
  }
  finish(std::nullopt);
}

void SnmpPoll::on_scalars(std::vector<std::size_t> batch, Result<SnmpReply> reply) {
  if (!reply) return finish(reply.take_error());
  const auto& r = *reply;
  const auto fail = [&](std::size_t i, Error e) {
    e.message = fmt::format("{} ({}): {}", config_.metrics[i].name, oid_text(config_.metrics[i].oid), e.message);
    response_.failed[i] = std::move(e);
  };
  if (r.error_status == SNMP_ERR_TOOBIG) {
    if (batch.size() == 1) {
      fail(batch.front(), refused("pollers.snmp.too_big", "the agent's answer is too big even for this OID alone"));
    } else {
      ++response_.splits;
      const auto half = batch.begin() + static_cast<std::ptrdiff_t>(batch.size() / 2);
      batches_.emplace_back(half, batch.end());
      batches_.emplace_back(batch.begin(), half);
    }
    return next();
  }
  if (r.error_status == SNMP_ERR_NOSUCHNAME && r.error_index >= 1 &&
      static_cast<std::size_t>(r.error_index) <= batch.size()) {
    // SNMPv1 refuses the whole PDU for one unknown OID: that one is a field error, the rest go again.
    const auto bad = batch.begin() + (r.error_index - 1);
    fail(*bad, refused("pollers.snmp.no_such_object", "the agent has no such object (noSuchName)"));
    batch.erase(bad);
    if (!batch.empty()) batches_.push_back(std::move(batch));
    return next();
  }
  if (r.error_status != SNMP_ERR_NOERROR) {
    for (auto i : batch)
      fail(i, refused("pollers.snmp.error_status",
                      fmt::format("the agent answered {} ({})", snmp_errstring(static_cast<int>(r.error_status)),
                                  r.error_status)));
    return next();
  }
  for (std::size_t k = 0; k < batch.size(); ++k) {
    const auto i = batch[k];
    if (k >= r.varbinds.size() || r.varbinds[k].oid != config_.metrics[i].oid) {
      fail(i, refused("pollers.snmp.bad_answer", "the agent's answer does not name the OID asked for"));
      continue;
    }
    response_.scalars[i] = r.varbinds[k].value;
  }
  next();
}

void SnmpPoll::walk_step() {
  const auto& t = config_.tables[table_];
  auto& rows = response_.tables[table_];
  std::vector<std::size_t> active;
  for (std::size_t j = 0; j < column_oids_.size(); ++j)
    if (!column_done_[j]) active.push_back(j);
  const bool row_limit = rows.rows.size() >= t.max_rows;
  const bool time_limit = clock_.now() - walk_started_ >= t.max_walk_time;
  if (active.empty() || row_limit || time_limit) {
    if (!active.empty())
      rows.error = refused("pollers.snmp.walk_truncated",
                           fmt::format("table \"{}\": walk stopped at {} rows ({})", t.name, rows.rows.size(),
                                       row_limit ? "max_rows" : "max_walk_time"));
    ++table_;
    return next();
  }
  SnmpRequest r;
  r.kind = config_.version == SnmpVersion::v1 ? SnmpRequest::Kind::get_next : SnmpRequest::Kind::get_bulk;
  r.max_repetitions = std::min<unsigned>(t.max_repetitions, static_cast<unsigned>(t.max_rows - rows.rows.size()));
  for (auto j : active) r.oids.push_back(last_[j]);
  send(std::move(r), [active](SnmpPoll& p, Result<SnmpReply> reply) mutable {
    p.on_walk(std::move(active), std::move(reply));
  });
}

void SnmpPoll::on_walk(std::vector<std::size_t> active, Result<SnmpReply> reply) {
  if (!reply) return finish(reply.take_error());
  const auto& t = config_.tables[table_];
  auto& rows = response_.tables[table_];
  const auto& r = *reply;
  if (config_.version == SnmpVersion::v1 && r.error_status == SNMP_ERR_NOSUCHNAME && r.error_index >= 1 &&
      static_cast<std::size_t>(r.error_index) <= active.size()) {
    column_done_[active[r.error_index - 1]] = true;  // v1's end of the MIB
    return walk_step();
  }
  if (r.error_status != SNMP_ERR_NOERROR) {
    rows.error = refused("pollers.snmp.error_status",
                         fmt::format("table \"{}\": the agent answered {} ({})", t.name,
                                     snmp_errstring(static_cast<int>(r.error_status)), r.error_status));
    ++table_;
    return next();
  }
  const std::size_t width = column_oids_.size();
  bool progressed = false;
  // GETBULK answers repetition after repetition, each with one varbind per column asked.
  for (std::size_t k = 0; k < r.varbinds.size(); ++k) {
    const auto j = active[k % active.size()];
    if (column_done_[j]) continue;
    const auto& vb = r.varbinds[k];
    const auto& column = column_oids_[j];
    // Past the column (or the MIB), or not after the last OID: an agent that
    // answers out of order must not make a walk that never ends.
    if (vb.value.type == SnmpType::end_of_mib_view || !oid_under(vb.oid, column) ||
        !std::lexicographical_compare(last_[j].begin(), last_[j].end(), vb.oid.begin(), vb.oid.end())) {
      column_done_[j] = true;
      continue;
    }
    last_[j] = vb.oid;
    progressed = true;
    Oid index(vb.oid.begin() + static_cast<std::ptrdiff_t>(column.size()), vb.oid.end());
    auto it = rows.rows.find(index);
    if (it == rows.rows.end()) {
      if (rows.rows.size() >= t.max_rows) continue;
      it = rows.rows.emplace(std::move(index), std::vector<std::optional<SnmpValue>>(width)).first;
    }
    it->second[j] = vb.value;
  }
  if (!progressed)
    for (auto j : active) column_done_[j] = true;  // an empty answer ends the walk too
  walk_step();
}

void SnmpPoll::finish(std::optional<Error> error) {
  response_.elapsed = clock_.now() - response_.taken_at;
  auto done = std::exchange(done_, nullptr);
  if (!done) return;
  if (error) return done(std::move(*error));
  done(std::move(response_));
}

}  // namespace edgepoll::pollers
