#include "gateway.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <functional>

namespace edgepoll::pollers {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
long long ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}
}  // namespace

ModbusGateway::ModbusGateway(asio::io_context& io, std::string host, std::uint16_t port,
                             ModbusTransportOptions options,
                             std::shared_ptr<ModbusTransportStats> stats)
    : host_(std::move(host)),
      port_(port),
      name_(host_ + ":" + std::to_string(port_)),
      options_(options),
      stats_(std::move(stats)),
      resolver_(io),
      socket_(io),
      deadline_timer_(io),
      retry_timer_(io),
      backoff_(options.reconnect_base, options.reconnect_cap, std::hash<std::string>{}(name_)) {}

std::string ModbusGateway::where(const ModbusRead& r) const {
  return fmt::format("gateway {} unit {} FC{:02} {}+{}", name_, r.unit, static_cast<int>(r.table),
                     r.address, r.count);
}

void ModbusGateway::allow_outstanding(unsigned n) {
  max_outstanding_ = std::max(max_outstanding_, std::max(1u, n));
}

void ModbusGateway::submit(ModbusRequestId id, const ModbusRead& read, ModbusCallback done) {
  if (closed_) return;
  Pending p{id, read, std::move(done), Clock::now(), {}, 0, false};
  arm(p.queued_at + 2 * read.timeout);
  (unit_suspect_[read.unit] ? suspect_queue_ : queue_).push_back(std::move(p));
  dispatch();
}

void ModbusGateway::cancel(ModbusRequestId id) {
  for (auto* lane : {&queue_, &suspect_queue_}) {
    auto it =
        std::find_if(lane->begin(), lane->end(), [id](const Pending& p) { return p.id == id; });
    if (it != lane->end()) {
      lane->erase(it);
      return;
    }
  }
  // In flight: its slot stays taken until the answer or the timeout; nobody is told.
  for (auto& p : in_flight_)
    if (p.id == id) p.done = nullptr;
}

void ModbusGateway::shutdown() {
  closed_ = true;
  ++epoch_;
  error_code ignored;
  socket_.close(ignored);
  resolver_.cancel();
  deadline_timer_.cancel();
  retry_timer_.cancel();
  queue_.clear();
  suspect_queue_.clear();
  in_flight_.clear();
  completions_.clear();
}

// ---- connection ------------------------------------------------------------------

void ModbusGateway::connect() {
  state_ = State::connecting;
  const auto epoch = ++epoch_;
  connect_deadline_ = Clock::now() + options_.connect_timeout;
  arm(connect_deadline_);
  resolver_.async_resolve(
      host_, std::to_string(port_),
      [self = shared_from_this(), epoch](const error_code& ec,
                                         asio::ip::tcp::resolver::results_type endpoints) {
        if (epoch != self->epoch_ || self->closed_) return;
        if (ec) return self->on_connected(ec);
        asio::async_connect(self->socket_, endpoints,
                            [self, epoch](const error_code& ec2, const auto&) {
                              if (epoch != self->epoch_ || self->closed_) return;
                              self->on_connected(ec2);
                            });
      });
}

void ModbusGateway::on_connected(const error_code& ec) {
  if (ec) {
    ++stats_->connect_failures;
    const bool first_failure = !last_connect_error_;
    const bool timed_out = ec == asio::error::operation_aborted;
    last_connect_error_ = make_error(
        "pollers.modbus.connect_failed",
        fmt::format("gateway {}: cannot connect: {}", name_,
                    timed_out ? fmt::format("no answer in {} ms", ms(options_.connect_timeout))
                              : ec.message()),
        true, "check the gateway address and that it is up");
    // Once per outage, not per attempt: the devices behind it log their own state.
    if (first_failure)
      spdlog::warn("modbus gateway={} event=connect_failed error={}", name_,
                   last_connect_error_->message);
    error_code ignored;
    socket_.close(ignored);
    // Nobody can be served until a connection exists: say so now rather than at each timeout.
    for (auto* lane : {&queue_, &suspect_queue_}) {
      for (auto& p : *lane) complete(p, *last_connect_error_);
      lane->clear();
    }
    retry_later();
    return run_completions();
  }
  ++stats_->connects;
  if (last_connect_error_) spdlog::info("modbus gateway={} event=connected", name_);
  last_connect_error_.reset();
  state_ = State::connected;
  error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  have_ = 0;
  start_read();
  dispatch();
  run_completions();
}

void ModbusGateway::retry_later() {
  state_ = State::backing_off;
  retry_timer_.expires_after(backoff_.next());
  retry_timer_.async_wait([self = shared_from_this(), epoch = epoch_](const error_code& ec) {
    if (ec || epoch != self->epoch_ || self->closed_) return;
    self->state_ = State::idle;
    self->dispatch();  // connects again only when some request waits
  });
}

void ModbusGateway::drop_connection(const Error& why, std::optional<std::uint8_t> culprit) {
  if (state_ == State::connected) {
    ++stats_->disconnects;
    spdlog::warn("modbus gateway={} event=connection_lost error={} in_flight={}", name_,
                 why.message, in_flight_.size());
  }
  ++epoch_;
  error_code ignored;
  socket_.close(ignored);
  have_ = 0;
  writing_ = false;
  out_pending_.clear();
  out_writing_.clear();
  // Only the unit the failure belongs to fails (when it can be told); the
  // others' reads are idempotent and go out again, once, on the next connection.
  const bool only_one = in_flight_.size() == 1;
  for (auto it = in_flight_.rbegin(); it != in_flight_.rend(); ++it) {
    auto& p = *it;
    unit_busy_[p.read.unit] = false;
    const bool guilty = only_one || (culprit && *culprit == p.read.unit);
    if (!only_one && !culprit) unit_isolated_[p.read.unit] = true;
    if (guilty || p.resent) {
      Error mine = why;
      mine.message = where(p.read) + ": " + why.message;
      complete(p, std::move(mine));
    } else {
      p.resent = true;
      ++stats_->resent;
      queue_.push_front(std::move(p));
    }
  }
  in_flight_.clear();
  retry_later();
}

// ---- sending -----------------------------------------------------------------------

void ModbusGateway::dispatch() {
  if (closed_) return;
  if (state_ == State::idle && !(queue_.empty() && suspect_queue_.empty())) connect();
  if (state_ != State::connected) return;
  while (in_flight_.size() < max_outstanding_) {
    const bool alone = std::any_of(in_flight_.begin(), in_flight_.end(), [this](const Pending& p) {
      return unit_isolated_[p.read.unit];
    });
    if (alone || (!send_one(queue_) && !send_one(suspect_queue_))) break;
  }
  flush_writes();
}

bool ModbusGateway::send_one(std::deque<Pending>& lane) {
  auto it = std::find_if(lane.begin(), lane.end(),
                         [this](const Pending& p) { return !unit_busy_[p.read.unit]; });
  if (it == lane.end()) return false;
  if (unit_isolated_[it->read.unit] && !in_flight_.empty())
    return false;  // waits until it can go alone
  Pending p = std::move(*it);
  lane.erase(it);
  auto taken = [this](std::uint16_t t) {
    return std::any_of(in_flight_.begin(), in_flight_.end(),
                       [t](const Pending& q) { return q.transaction == t; });
  };
  do {
    p.transaction = next_transaction_++;
  } while (taken(p.transaction));
  const auto frame =
      mbap::encode_read({p.transaction, p.read.unit, p.read.table, p.read.address, p.read.count});
  out_pending_.insert(out_pending_.end(), frame.begin(), frame.end());
  p.sent_at = Clock::now();
  arm(p.sent_at + p.read.timeout);
  unit_busy_[p.read.unit] = true;
  ++stats_->requests;
  in_flight_.push_back(std::move(p));
  return true;
}

void ModbusGateway::flush_writes() {
  if (writing_ || out_pending_.empty() || state_ != State::connected) return;
  writing_ = true;
  std::swap(out_pending_, out_writing_);
  asio::async_write(socket_, asio::buffer(out_writing_),
                    [self = shared_from_this(), epoch = epoch_](const error_code& ec, std::size_t) {
                      if (epoch != self->epoch_ || self->closed_) return;
                      self->writing_ = false;
                      self->out_writing_.clear();
                      if (ec) {
                        self->drop_connection(make_error("pollers.modbus.connection_lost",
                                                         fmt::format("gateway {}: write failed: {}",
                                                                     self->name_, ec.message()),
                                                         true),
                                              std::nullopt);
                      } else {
                        self->flush_writes();
                      }
                      self->run_completions();
                    });
}

// ---- receiving ---------------------------------------------------------------------

void ModbusGateway::start_read() {
  socket_.async_read_some(
      asio::buffer(in_.data() + have_, in_.size() - have_),
      [self = shared_from_this(), epoch = epoch_](const error_code& ec, std::size_t n) {
        if (epoch != self->epoch_ || self->closed_) return;
        self->on_read(ec, n);
        self->run_completions();
      });
}

void ModbusGateway::on_read(const error_code& ec, std::size_t n) {
  if (ec) {
    const std::string what = ec == asio::error::eof ? "closed by the gateway" : ec.message();
    return drop_connection(
        make_error("pollers.modbus.connection_lost",
                   fmt::format("gateway {}: connection lost: {}", name_, what), true),
        std::nullopt);
  }
  have_ += n;
  const auto scan = mbap::scan_frames(
      std::span<const std::uint8_t>(in_.data(), have_), name_,
      [this](const mbap::Header& header, std::span<const std::uint8_t> body) {
        on_frame(header, body);
      });
  // The byte stream has lost its framing: nothing after this can be trusted.
  if (scan.refused) return drop_connection(scan.refused->first, scan.refused->second.unit);
  if (const std::size_t at = scan.consumed; at > 0) {
    std::memmove(in_.data(), in_.data() + at, have_ - at);
    have_ -= at;
  }
  start_read();
  dispatch();
}

void ModbusGateway::on_frame(const mbap::Header& header, std::span<const std::uint8_t> body) {
  auto it = std::find_if(in_flight_.begin(), in_flight_.end(),
                         [&](const Pending& p) { return p.transaction == header.transaction; });
  Result<std::vector<std::uint16_t>> values = std::vector<std::uint16_t>{};
  if (it != in_flight_.end()) {
    values = mbap::decode_read_response(
        header, body,
        {it->transaction, it->read.unit, it->read.table, it->read.address, it->read.count},
        where(it->read));
  } else {
    // Each unit has at most one request in flight, so an answer from a unit
    // with an unknown transaction id is that request's (wrongly numbered).
    it = std::find_if(in_flight_.begin(), in_flight_.end(),
                      [&](const Pending& p) { return p.read.unit == header.unit; });
    if (it == in_flight_.end()) {
      ++stats_->stray;  // a late answer to a request that already timed out
      return;
    }
    values = make_error("pollers.modbus.wrong_transaction_id",
                        fmt::format("{}: answer with transaction id {} to request {}",
                                    where(it->read), header.transaction, it->transaction),
                        true);
  }
  Pending p = std::move(*it);
  in_flight_.erase(it);
  unit_busy_[p.read.unit] = false;
  unit_suspect_[p.read.unit] = false;  // it answers (even if wrongly): back in the main queue
  unit_isolated_[p.read.unit] = false;
  ++stats_->answers;
  backoff_.reset();
  if (!values) return complete(p, values.take_error());
  complete(p, ModbusReply{std::move(values.value()), Clock::now() - p.sent_at});
}

// ---- time ---------------------------------------------------------------------------

void ModbusGateway::arm(Clock::time_point at) {
  if (at >= armed_for_ || closed_) return;
  armed_for_ = at;
  deadline_timer_.expires_at(at);
  deadline_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec == asio::error::operation_aborted || self->closed_) return;
    self->armed_for_ = Clock::time_point::max();
    self->on_deadline();
    self->run_completions();
  });
}

void ModbusGateway::on_deadline() {
  const auto now = Clock::now();
  auto next = Clock::time_point::max();
  if (state_ == State::connecting && now >= connect_deadline_) {
    ++epoch_;  // the pending resolve/connect handlers are stale now
    resolver_.cancel();
    on_connected(asio::error::operation_aborted);
  } else if (state_ == State::connecting) {
    next = std::min(next, connect_deadline_);
  }
  bool desynchronized = false;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (now < it->sent_at + it->read.timeout) {
      next = std::min(next, it->sent_at + it->read.timeout);
      ++it;
      continue;
    }
    ++stats_->timeouts;
    const std::string partial =
        have_ > 0 ? fmt::format(" ({} bytes of an unfinished frame received)", have_)
                  : std::string();
    desynchronized = desynchronized || have_ > 0;
    unit_busy_[it->read.unit] = false;
    unit_suspect_[it->read.unit] = true;
    complete(*it, make_error("pollers.modbus.timeout",
                             fmt::format("{}: no answer in {} ms{}", where(it->read),
                                         ms(it->read.timeout), partial),
                             true, "a gateway sends no answer for a unit id it does not know"));
    it = in_flight_.erase(it);
  }
  for (auto* lane : {&queue_, &suspect_queue_}) {
    for (auto it = lane->begin(); it != lane->end();) {
      const auto due = it->queued_at + 2 * it->read.timeout;
      if (now < due) {
        next = std::min(next, due);
        ++it;
        continue;
      }
      const std::string state =
          state_ == State::connected ? fmt::format("{} requests in flight", in_flight_.size())
          : last_connect_error_      ? "not connected: " + last_connect_error_->message
                                     : std::string("not connected yet");
      complete(*it, make_error(
                        "pollers.modbus.queue_timeout",
                        fmt::format("{}: not sent within {} ms ({})", where(it->read),
                                    ms(2 * it->read.timeout), state),
                        true, "raise max_outstanding, or lower the poll rate behind this gateway"));
      it = lane->erase(it);
    }
  }
  if (desynchronized) {
    // A frame that never finishes leaves the stream unframeable: start over.
    drop_connection(
        make_error("pollers.modbus.connection_lost",
                   fmt::format("gateway {}: reconnecting after an unfinished frame", name_), true),
        std::nullopt);
  } else {
    dispatch();
  }
  if (next != Clock::time_point::max()) arm(next);
}

void ModbusGateway::complete(Pending& p, Result<ModbusReply> result) {
  if (p.done) completions_.emplace_back(std::move(p.done), std::move(result));
  p.done = nullptr;
}

void ModbusGateway::run_completions() {
  // Callbacks run after the gateway's own bookkeeping, so that one may submit
  // or cancel again from inside.
  auto batch = std::move(completions_);
  completions_.clear();
  for (auto& [done, result] : batch) done(std::move(result));
}

// ---- transport ----------------------------------------------------------------------

ModbusTcpTransport::ModbusTcpTransport(asio::io_context& io, ModbusTransportOptions options)
    : io_(io), options_(options) {}

ModbusTcpTransport::~ModbusTcpTransport() {
  for (auto& g : gateways_) g->shutdown();
}

GatewayId ModbusTcpTransport::gateway(const std::string& host, std::uint16_t port,
                                      unsigned max_outstanding) {
  for (std::size_t i = 0; i < gateways_.size(); ++i) {
    if (gateways_[i]->is(host, port)) {
      gateways_[i]->allow_outstanding(max_outstanding);
      return static_cast<GatewayId>(i);
    }
  }
  gateways_.push_back(std::make_shared<ModbusGateway>(io_, host, port, options_, stats_));
  gateways_.back()->allow_outstanding(max_outstanding);
  return static_cast<GatewayId>(gateways_.size() - 1);
}

// The gateway's index rides in the id's top bits, so cancel() needs no lookup table.
ModbusRequestId ModbusTcpTransport::read(GatewayId gateway, const ModbusRead& read,
                                         ModbusCallback done) {
  const ModbusRequestId id =
      (static_cast<ModbusRequestId>(gateway) << 40) | (++next_request_ & ((1ull << 40) - 1));
  gateways_.at(gateway)->submit(id, read, std::move(done));
  return id;
}

void ModbusTcpTransport::cancel(ModbusRequestId id) {
  const auto g = static_cast<std::size_t>(id >> 40);
  if (g < gateways_.size()) gateways_[g]->cancel(id);
}

}  // namespace edgepoll::pollers
