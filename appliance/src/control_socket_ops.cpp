// What the control socket's requests do (see control_socket.hpp).
#include <atomic>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "edgepoll/appliance/command_bridge.hpp"
#include "edgepoll/appliance/control_socket.hpp"
#include "edgepoll/kafka/command.hpp"
#include "edgepoll/pollers/duration.hpp"
#include "edgepoll/pollers/protocol.hpp"
#include "edgepoll/supervision/runtime.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {

using namespace supervision;

namespace {
constexpr auto kAnswerTimeout = std::chrono::seconds(10);

// One answer however many paths race to give it (the result, the timeout).
ControlAnswer answer_once(boost::asio::io_context& io, ControlAnswer answer) {
  struct Shared {
    explicit Shared(boost::asio::io_context& io) : timer(io) {}
    std::atomic<bool> given{false};
    boost::asio::steady_timer timer;
    ControlAnswer answer;
  };
  auto shared = std::make_shared<Shared>(io);
  shared->answer = std::move(answer);
  auto once = [shared](nlohmann::json a) {
    if (shared->given.exchange(true)) return;
    boost::asio::post(shared->timer.get_executor(), [shared] { shared->timer.cancel(); });
    shared->answer(std::move(a));
  };
  shared->timer.expires_after(kAnswerTimeout);
  shared->timer.async_wait([once](const boost::system::error_code& ec) {
    if (!ec) once(control_error(make_error("control.timeout", "no answer within 10 s", true, "try again")));
  });
  return once;
}

nlohmann::json describe_letter(const storage::DeadLetter& d) {
  return {{"id", d.id},
          {"source", storage::to_string(d.source)},
          {"key", d.record_key}};
}

// The settings of a device that an operator recognizes, as values (where each
// came from is in "keys").
nlohmann::json settings_of(const EffectiveDevice& d) {
  const pollers::DeviceConfig& c = *d.config;
  nlohmann::json s = {{"protocol", std::string(pollers::protocol_name(c.protocol))},
                      {"enabled", d.enabled},
                      {"interval", pollers::format_duration(c.interval)},
                      {"timeout", pollers::format_duration(c.timeout)}};
  if (c.modbus) {
    s["gateway"] = c.modbus->gateway();
    s["unit_id"] = c.modbus->unit_id;
    s["fields"] = c.modbus->fields.size();
  } else {
    s["url"] = c.url;
    nlohmann::json metrics = nlohmann::json::array();
    for (const auto& m : c.metrics) metrics.push_back(m.name);
    s["metrics"] = metrics;
  }
  return s;
}

Error writer_down() {
  return make_error("storage.unavailable", "the storage writer is not running", true,
                    "the storage pool restarts it; try again");
}

using Done = std::function<void(Status)>;

// Replays one dead letter: a reading back into the outbox (one writer
// operation); a command applied through the config manager like a Kafka
// command, then removed (a command that fails again stays, with its error).
void replay_one(Runtime& runtime, std::shared_ptr<storage::BatchWriter> writer, const std::string& root,
                const storage::DeadLetter& letter, Done done) {
  if (letter.source == storage::DeadLetterSource::reading) {
    writer->replay_dead_reading(std::to_string(letter.id), [letter, done](Result<storage::DeadLetter> r) {
      if (!r.ok()) return done(r.take_error());
      spdlog::info("dlq event=replayed id={} source=reading key={} into=outbox", letter.id, letter.record_key);
      done(ok_status());
    });
    return;
  }
  auto command = kafka::Command::parse(letter.record);
  if (!command.ok()) return done(command.take_error());
  // The path a Kafka command takes: config changes through the config cache's overlay.
  command->source = "dlq/" + std::to_string(letter.id);
  auto reply = [writer, letter, done](Status applied) {
    if (!applied.ok()) return done(applied.take_error());
    writer->drop_dead_letter(std::to_string(letter.id), [letter, done](Result<storage::DeadLetter> r) {
      if (!r.ok()) return done(r.take_error());
      spdlog::info("dlq event=replayed id={} source=command key={} applied=yes", letter.id, letter.record_key);
      done(ok_status());
    });
  };
  if (auto sent = send_command(runtime, root, command.value(), std::move(reply)); !sent.ok()) done(sent.take_error());
}

void drop_one(std::shared_ptr<storage::BatchWriter> writer, const storage::DeadLetter& letter,
              const std::string& reason, Done done) {
  writer->drop_dead_letter(std::to_string(letter.id), [reason, done](Result<storage::DeadLetter> r) {
    if (!r.ok()) return done(r.take_error());
    spdlog::warn("dlq event=dropped id={} source={} key={} reason=\"{}\" error=\"{}\"", r->id, storage::to_string(r->source),
                 r->record_key, reason, r->reason);
    done(ok_status());
  });
}

// Runs `each` over `letters` one after the other and answers with what
// happened to each.
struct Sequence : std::enable_shared_from_this<Sequence> {
  std::vector<storage::DeadLetter> letters;
  std::size_t next = 0;
  nlohmann::json done = nlohmann::json::array();
  nlohmann::json failed = nlohmann::json::array();
  std::function<void(const storage::DeadLetter&, Done)> each;
  std::string verb;  // "replayed" / "dropped"
  bool single = false;  // one key: its error is the answer
  ControlAnswer answer;

  void step() {
    if (next == letters.size()) {
      if (single && !failed.empty()) return answer({{"ok", false}, {"error", failed[0]["error"]}});
      nlohmann::json a = control_ok();
      a["ok"] = failed.empty();
      a[verb] = done;
      a["failed"] = failed;
      return answer(std::move(a));
    }
    const storage::DeadLetter& letter = letters[next++];
    each(letter, [self = shared_from_this(), entry = describe_letter(letter)](Status s) mutable {
      if (s.ok()) {
        self->done.push_back(std::move(entry));
      } else {
        entry["error"] = control_error(s.error())["error"];
        self->failed.push_back(std::move(entry));
      }
      self->step();
    });
  }
};

}  // namespace

ControlOperations::ControlOperations(Runtime& runtime, std::shared_ptr<storage::WriterHandle> writer,
                                     std::shared_ptr<const ConfigView> config, std::string root_name,
                                     std::shared_ptr<Chaos> chaos)
    : runtime_(runtime),
      writer_(std::move(writer)),
      config_(std::move(config)),
      root_name_(std::move(root_name)),
      chaos_(std::move(chaos)) {}

void ControlOperations::execute(const ControlRequest& request, ControlAnswer answer) {
  answer = answer_once(runtime_.io(), std::move(answer));
  switch (request.op) {
    case ControlOp::device_enable:
    case ControlOp::device_disable:
    case ControlOp::device_poll_now: return device(request, std::move(answer));
    case ControlOp::dlq_replay:
    case ControlOp::dlq_drop: return dead_letters(request, std::move(answer));
    case ControlOp::config_show: return config_show(request, std::move(answer));
    case ControlOp::config_overlay_clear: return overlay_clear(request, std::move(answer));
    case ControlOp::chaos_list:
    case ControlOp::chaos_exit:
    case ControlOp::chaos_fail:
      if (!chaos_) {
        return answer(control_error(make_error("chaos.disabled", "the chaos hook is off in this daemon", false,
                                               "test rigs only: [chaos] enabled = true in the config")));
      }
      return answer(chaos_->execute(request));
  }
}

void ControlOperations::device(const ControlRequest& request, ControlAnswer answer) {
  // As the same command from Kafka would: enable/disable change the config
  // (the overlay, so that a reload or a restart keeps them), poll_now does not.
  kafka::Command cmd;
  cmd.id = "control";
  cmd.node = std::string(kafka::kEveryNode);
  cmd.device = request.device;
  cmd.type = request.op == ControlOp::device_enable    ? kafka::CommandType::enable_device
             : request.op == ControlOp::device_disable ? kafka::CommandType::disable_device
                                                       : kafka::CommandType::poll_now;
  cmd.source = "control socket";
  auto reply = [answer, op = std::string(to_string(request.op)), device = request.device](Status s) {
    if (!s.ok()) return answer(control_error(s.error()));
    spdlog::info("device={} event=control op={}", device, op);
    answer(control_ok());
  };
  if (auto sent = send_command(runtime_, root_name_, cmd, std::move(reply)); !sent.ok()) {
    answer(control_error(sent.error()));
  }
}

void ControlOperations::dead_letters(const ControlRequest& request, ControlAnswer answer) {
  auto writer = writer_->get();
  if (!writer) return answer(control_error(writer_down()));
  auto seq = std::make_shared<Sequence>();
  seq->answer = answer;
  const bool replay = request.op == ControlOp::dlq_replay;
  seq->verb = replay ? "replayed" : "dropped";
  if (replay) {
    seq->each = [self = shared_from_this(), writer](const storage::DeadLetter& l, Done d) {
      replay_one(self->runtime_, writer, self->root_name_, l, std::move(d));
    };
  } else {
    seq->each = [writer, reason = request.reason](const storage::DeadLetter& l, Done d) {
      drop_one(writer, l, reason, std::move(d));
    };
  }
  if (request.all) {
    // Bounded: an --all that meets more is run again by the operator.
    writer->list_dead_letters(10000, 0, [seq](Result<std::vector<storage::DeadLetter>> all) {
      if (!all.ok()) return seq->answer(control_error(all.error()));
      seq->letters = std::move(all.value());
      seq->step();
    });
    return;
  }
  seq->single = true;
  writer->find_dead_letter(request.key, [seq, key = request.key](Result<std::optional<storage::DeadLetter>> found) {
    if (!found.ok()) return seq->answer(control_error(found.error()));
    if (!*found) {
      return seq->answer(control_error(make_error("dlq.not_found", "no dead letter with key '" + key + "'", false,
                                                  "edgepollctl dlq list shows the keys")));
    }
    seq->letters.push_back(std::move(**found));
    seq->step();
  });
}

void ControlOperations::config_show(const ControlRequest& request, ControlAnswer answer) {
  const auto effective = config_ ? config_->effective() : nullptr;
  if (!effective) {
    return answer(control_error(make_error("config.unavailable", "the config cache has not started", true,
                                           "it is the first process of root/edge; try again")));
  }
  nlohmann::json devices = nlohmann::json::array();
  const auto listed = effective->to_json();  // id, enabled, defined_at, keys: in the devices' order
  for (std::size_t i = 0; i < effective->devices.size(); ++i) {
    const auto& d = effective->devices[i];
    if (!request.device.empty() && d.config->id != request.device) continue;
    nlohmann::json j = listed["devices"][i];
    j["settings"] = settings_of(d);
    devices.push_back(std::move(j));
  }
  if (!request.device.empty() && devices.empty()) {
    return answer(control_error(make_error("command.unknown_device",
                                           "no device '" + request.device + "' in the effective config", false,
                                           "edgepollctl config show lists them")));
  }
  const auto source = config_->source();
  nlohmann::json out = control_ok();
  out["source"] = to_string(source.source);
  if (!source.detail.empty()) out["source_detail"] = source.detail;
  out["devices"] = std::move(devices);
  out["notes"] = listed["notes"];
  answer(std::move(out));
}

void ControlOperations::overlay_clear(const ControlRequest& request, ControlAnswer answer) {
  const auto root = runtime_.registry().whereis(root_name_);
  const Pid cache = root ? find_in_tree(*root, root->path() + "/edge/config_cache") : Pid{};
  if (!cache) {
    return answer(control_error(make_error("config.unavailable", "the config cache is not running", true,
                                           "it restarts under root/edge; try again")));
  }
  ClearOverlay clear;
  if (!request.all) clear.device = request.device;
  clear.reply = [answer, scope = request.all ? std::string("all") : request.device](Result<std::size_t> r) {
    if (!r.ok()) return answer(control_error(r.error()));
    spdlog::info("config event=control op=overlay_clear scope={} cleared={}", scope, r.value());
    nlohmann::json out = control_ok();
    out["cleared"] = r.value();
    answer(std::move(out));
  };
  runtime_.send(cache, std::move(clear));
}

}  // namespace edgepoll::appliance
