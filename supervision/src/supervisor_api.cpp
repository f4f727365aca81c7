// The dynamic API: requests are messages, answered on the supervisor's strand.
#include "supervisor_internal.hpp"

namespace edgepoll::supervision {

namespace detail {

Error supervision_error(const std::string& code, const std::string& message) {
  return make_error(code, message);
}

std::uint64_t next_child_serial() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

Replier::~Replier() {
  if (done_) return;
  Error gone = supervision_error("supervision.noproc", "the supervisor ended before answering");
  if (pid_reply_) pid_reply_(gone);
  if (status_reply_) status_reply_(gone);
}

void Replier::pid(Result<Pid> r) {
  if (done_) return;
  done_ = true;
  if (pid_reply_) pid_reply_(std::move(r));
}

void Replier::status(Status s) {
  if (done_) return;
  done_ = true;
  if (status_reply_) status_reply_(std::move(s));
}

}  // namespace detail

using detail::supervision_error;

void Supervisor::handle_api(Process& self, Message& message) {
  if (auto* req = std::any_cast<detail::StartChildRequest>(&message)) {
    auto child = std::make_unique<Child>();
    if (dynamic()) {
      if (req->spec) {
        return req->reply->pid(supervision_error(
            "supervision.bad_request", "simple_one_for_one takes start arguments, not a child spec"));
      }
      child->spec = template_;
      child->id = req->args.id;
      child->args = req->args.args;
    } else {
      if (!req->spec || !req->spec->start) {
        return req->reply->pid(supervision_error("supervision.bad_request", "start_child needs a child spec"));
      }
      if (Child* existing = find_static(req->spec->id)) {
        return req->reply->pid(existing->pid
                                   ? supervision_error("supervision.already_started",
                                                       "child '" + existing->id + "' is running")
                                   : supervision_error("supervision.already_present",
                                                       "child '" + existing->id + "' exists"));
      }
      child->spec = req->spec;
      child->id = req->spec->id;
    }
    child->serial = detail::next_child_serial();
    Child& c = add_child(std::move(child));
    auto started = start_one(self, c);
    if (!started.ok()) {
      report(self, ReportKind::start_error, &c, ExitReason::error(started.error().message),
             started.error().describe());
      remove_child(c);
    } else if (!started.value()) {
      if (dynamic() || c.spec->restart == Restart::temporary) remove_child(c);
    } else {
      report(self, ReportKind::child_started, &c, ExitReason::normal());
    }
    return req->reply->pid(std::move(started));
  }
  if (auto* req = std::any_cast<detail::TerminateChildRequest>(&message)) {
    Child* c = dynamic() ? find_dynamic_by_id(req->id) : find_static(req->id);
    if (!c) return req->reply->status(supervision_error("supervision.not_found", "no child '" + req->id + "'"));
    {
      std::lock_guard lock(view_mutex_);
      c->restarting = false;  // a pending retry must not bring it back
    }
    auto reply = req->reply;
    const std::uint64_t serial = c->serial;
    auto finish = [this, serial, reply](Process&) {
      Child* left = nullptr;
      for (auto& s : static_) if (s->serial == serial) left = s.get();
      for (auto& [raw, d] : dynamic_) if (d->serial == serial) left = d.get();
      if (left && (dynamic() || left->spec->restart == Restart::temporary)) remove_child(*left);
      reply->status(ok_status());
    };
    if (c->pid) {
      stop_children(self, {c}, false, finish);
    } else {
      finish(self);
    }
    return;
  }
  if (auto* req = std::any_cast<detail::RestartChildRequest>(&message)) {
    if (dynamic()) return req->reply->pid(supervision_error("supervision.simple_one_for_one", "restart_child is not for simple_one_for_one"));
    Child* c = find_static(req->id);
    if (!c) return req->reply->pid(supervision_error("supervision.not_found", "no child '" + req->id + "'"));
    if (c->pid) return req->reply->pid(supervision_error("supervision.running", "child '" + req->id + "' is running"));
    if (c->restarting) return req->reply->pid(supervision_error("supervision.restarting", "child '" + req->id + "' is restarting"));
    auto started = start_one(self, *c);
    if (started.ok() && started.value()) report(self, ReportKind::child_started, c, ExitReason::normal());
    return req->reply->pid(std::move(started));
  }
  if (auto* req = std::any_cast<detail::DeleteChildRequest>(&message)) {
    if (dynamic()) return req->reply->status(supervision_error("supervision.simple_one_for_one", "delete_child is not for simple_one_for_one"));
    Child* c = find_static(req->id);
    if (!c) return req->reply->status(supervision_error("supervision.not_found", "no child '" + req->id + "'"));
    if (c->pid) return req->reply->status(supervision_error("supervision.running", "child '" + req->id + "' is running"));
    if (c->restarting) return req->reply->status(supervision_error("supervision.restarting", "child '" + req->id + "' is restarting"));
    remove_child(*c);
    return req->reply->status(ok_status());
  }
  if (auto* req = std::any_cast<detail::StopRequest>(&message)) {
    shut_down(self, req->reason);
    return;
  }
  unexpected(self, message);  // OTP: "Supervisor received unexpected message"
}

void start_child(Runtime& rt, const Pid& sup, ChildStart args, PidReply reply) {
  rt.send(sup, detail::StartChildRequest{nullptr, std::move(args),
                                         std::make_shared<detail::Replier>(std::move(reply))});
}

void start_child(Runtime& rt, const Pid& sup, ChildSpec spec, PidReply reply) {
  rt.send(sup, detail::StartChildRequest{std::make_shared<ChildSpec>(std::move(spec)), {},
                                         std::make_shared<detail::Replier>(std::move(reply))});
}

void terminate_child(Runtime& rt, const Pid& sup, std::string id, StatusReply reply) {
  rt.send(sup, detail::TerminateChildRequest{std::move(id),
                                             std::make_shared<detail::Replier>(std::move(reply))});
}

void restart_child(Runtime& rt, const Pid& sup, std::string id, PidReply reply) {
  rt.send(sup, detail::RestartChildRequest{std::move(id),
                                           std::make_shared<detail::Replier>(std::move(reply))});
}

void delete_child(Runtime& rt, const Pid& sup, std::string id, StatusReply reply) {
  rt.send(sup, detail::DeleteChildRequest{std::move(id),
                                          std::make_shared<detail::Replier>(std::move(reply))});
}

void stop_supervisor(Runtime& rt, const Pid& sup, ExitReason reason) {
  rt.send(sup, detail::StopRequest{std::move(reason)});
}

}  // namespace edgepoll::supervision
