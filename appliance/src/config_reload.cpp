#include "edgepoll/appliance/config_reload.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <memory>

#include "edgepoll/appliance/subtree_restart.hpp"
#include "edgepoll/supervision/supervisor.hpp"

namespace edgepoll::appliance {

using namespace supervision;

namespace {

// One restart a reload asks for: children of `parent` to stop, fresh specs to start.
struct Restart {
  std::string parent;  // tree path of the supervisor
  std::vector<std::string> old_ids;
  std::vector<ChildSpec> fresh;
  std::string says;  // "[health]" for the log
};

std::vector<Restart> restarts_for(const AppConfig& old, const AppConfig& fresh, NodeParts& parts,
                                  Runtime& rt) {
  auto changed = [&](const char* section) {
    return old.section_text.at(section) != fresh.section_text.at(section);
  };
  std::vector<Restart> out;
  auto kafka_restart = [&](std::string says) {
    Restart r{"root/deps", {"kafka_pool"}, {}, std::move(says)};
    if (fresh.kafka) r.fresh.push_back(kafka_pool_spec(fresh, parts, rt));
    return r;
  };
  if (changed("storage")) {
    Restart r{"root/deps",
              {"storage_pool", "kafka_pool"},
              {storage_pool_spec(fresh, parts)},
              "[storage]"};
    if (fresh.kafka) r.fresh.push_back(kafka_pool_spec(fresh, parts, rt));
    out.push_back(std::move(r));
  } else if (changed("kafka") || changed("node")) {
    out.push_back(kafka_restart(changed("kafka") ? "[kafka]" : "[node] (kafka_pool)"));
  }
  if (changed("health") || changed("registration") || changed("control") || changed("node")) {
    const char* says = changed("health")         ? "[health]"
                       : changed("registration") ? "[registration] (health)"
                       : changed("control")      ? "[control] (health)"
                                                 : "[node] (health)";
    make_readiness(fresh, parts, rt);  // [health] readiness may have changed
    out.push_back({"root", {"health"}, {health_spec(fresh, parts, rt)}, says});
  }
  const auto& a = old.pollers;
  const auto& b = fresh.pollers;
  if (a.max_consecutive_failures != b.max_consecutive_failures) {
    out.push_back({"root/edge",
                   {"pollers", "config_manager"},
                   {pollers_spec(fresh, parts), config_manager_spec(fresh, parts)},
                   "[pollers] max_consecutive_failures (every device)"});
  } else if (a.manager.backoff_base != b.manager.backoff_base ||
             a.manager.backoff_cap != b.manager.backoff_cap ||
             a.manager.stable_after != b.manager.stable_after) {
    out.push_back({"root/edge",
                   {"config_manager"},
                   {config_manager_spec(fresh, parts)},
                   "[pollers] backoff"});
  }
  return out;
}

std::string summary(const DeviceDiff& d, const std::vector<Restart>& restarts) {
  std::vector<std::string> parts;
  auto count = [&](std::size_t n, const char* what) {
    if (n) parts.push_back(fmt::format("{} device{} {}", n, n == 1 ? "" : "s", what));
  };
  count(d.changed.size(), "changed");
  count(d.added.size(), "added");
  count(d.removed.size(), "removed");
  for (const auto& r : restarts) parts.push_back(r.says + " restarted");
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

ConfigReloader::ConfigReloader(Runtime& runtime, Pid root, NodeParts& parts,
                               std::string config_path)
    : runtime_(runtime),
      root_(std::move(root)),
      parts_(parts),
      config_path_(std::move(config_path)) {}

void ConfigReloader::reload() {
  auto fresh = AppConfig::load(config_path_);
  if (!fresh.ok()) {
    spdlog::error("reload refused, keeping the running config: {}", fresh.error().describe());
    return;
  }
  const Pid cache = find_in_tree(root_, "root/edge/config_cache");
  if (!cache) {
    spdlog::error(
        "reload refused, keeping the running config: the config cache is not running (edge "
        "restarting)");
    return;
  }
  const auto old = parts_.config_view->files();
  auto restarts =
      std::make_shared<std::vector<Restart>>(restarts_for(*old, fresh.value(), parts_, runtime_));
  const std::string path = config_path_;
  Runtime& rt = runtime_;
  const Pid root = root_;
  runtime_.send(
      cache, ReloadFiles{std::move(fresh.value()), [&rt, root, restarts, path](DeviceDiff diff) {
                           // On the cache's strand: the section restarts go through the
                           // supervisors' API.
                           const std::string what = summary(diff, *restarts);
                           if (what.empty()) {
                             spdlog::info("reload of {}: nothing changed, nothing restarted", path);
                             return;
                           }
                           spdlog::info("reloaded {}: {}", path, what);
                           for (auto& r : *restarts) {
                             const Pid sup = find_in_tree(root, r.parent);
                             if (!sup) {
                               spdlog::error(
                                   "reload: {} is not running, so {} was not restarted: it applies "
                                   "at the next reload",
                                   r.parent, r.says);
                               continue;
                             }
                             replace_children(
                                 rt, sup, r.old_ids, r.fresh, [says = r.says](Status s) {
                                   if (!s.ok())
                                     spdlog::error("reload: {} did not start again: {}", says,
                                                   s.error().describe());
                                 });
                           }
                         }});
}

}  // namespace edgepoll::appliance
