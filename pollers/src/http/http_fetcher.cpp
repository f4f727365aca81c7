#include "edgepoll/pollers/http_fetcher.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fetch_error.hpp"
#include "plain_http_client.hpp"

namespace edgepoll::pollers {
namespace asio = boost::asio;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

struct Pool;

struct Transfer {
  RequestId id = 0;
  Pool* pool = nullptr;  // the multi handle it runs on
  CURL* easy = nullptr;
  FetchCallback done;
  std::string body;
  std::size_t max_body = 0;
  bool too_large = false;
  std::string device_id;
  std::string url;
  bool post = false;
  char errbuf[CURL_ERROR_SIZE] = {};
};

// One socket libcurl asked us to watch. Handlers hold it by shared_ptr and look
// at `closed` before anything else: after libcurl said REMOVE (or the fetcher
// died) a late wakeup must do nothing.
//
// A socket opened through on_open is watched through a private duplicate of
// libcurl's descriptor, never through libcurl's own number: libcurl 7.88 up to
// 8.1 (Debian 12 ships 7.88) closes a socket cancelled before its connect
// completed with a bare close(), skipping CURLOPT_CLOSESOCKETFUNCTION (curl
// issue #11439). Its number is then free for the next socket, accept or open
// of the process; a watch holding that number would close or deregister
// whatever has it now (a health endpoint client once received a device's
// request that way). The duplicate is ours alone, so closing it is always safe.
struct SocketWatch {
  explicit SocketWatch(asio::io_context& io) : sd(io) {}
  // A watch never closes libcurl's own descriptor: only on_close does.
  ~SocketWatch() {
    if (!opened_by_us && sd.is_open()) sd.release();
  }
  SocketWatch(const SocketWatch&) = delete;
  SocketWatch& operator=(const SocketWatch&) = delete;
  asio::posix::stream_descriptor sd;  // on_open's sockets: the private duplicate
  int want = 0;
  bool reading = false;
  bool writing = false;
  bool closed = false;
  // Opened through on_open: stays registered with Asio while libcurl keeps the
  // connection idle in its cache (REMOVE only clears `want`), so a kept-alive
  // poll costs no epoll_ctl. Other sockets are registered per ADD/REMOVE.
  bool opened_by_us = false;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * count;
  if (t->body.size() + len > t->max_body) {
    t->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR): no unbounded buffering
  }
  t->body.append(data, len);
  return len;
}

long to_ms(Duration d) {
  return static_cast<long>(duration_cast<milliseconds>(d).count());
}

// Easy handles kept for reuse (each ~5 KB inside libcurl): enough for the
// transfers in flight at once at 10,000 devices polled every second, without
// holding the high-water mark of a burst of slow answers for good.
constexpr std::size_t kIdleEasyHandles = 1024;

}  // namespace

FetchRequest FetchRequest::for_device(const DeviceConfig& c, Auth auth) {
  FetchRequest r;
  r.url = c.url;
  r.timeout = c.timeout;
  r.max_body = c.max_body;
  r.verify_tls = c.verify_tls;
  r.ca_file = c.ca_file;
  r.auth = std::move(auth);
  r.device_id = c.id;
  return r;
}

namespace {

// One multi handle: its connection cache, the sockets it asked us to watch and
// its timer. Transfers finish through the fetcher, which owns them.
struct Pool {
  Pool(HttpFetcher::Impl& owner, asio::io_context& io, const FetcherOptions& options)
      : owner(owner), io(io), timer(io) {
    multi = curl_multi_init();
    if (multi == nullptr) throw std::runtime_error("curl_multi_init failed");
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Pool::on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Pool::on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, options.max_cached_connections);
  }

  // The fetcher has removed every easy handle before this runs.
  ~Pool() {
    curl_multi_cleanup(multi);  // closes its connections through on_close
    for (auto& [fd, w] : sockets) {
      // What is left was closed by libcurl behind our back (or is libcurl's
      // own): close only our duplicates, never libcurl's number.
      w->closed = true;
      boost::system::error_code ec;
      if (w->opened_by_us)
        w->sd.close(ec);
      else
        w->sd.release();
    }
    sockets.clear();
    *alive = false;
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // ---- libcurl callbacks (called from inside curl_multi_* calls) ----------

  static int on_socket(CURL*, curl_socket_t fd, int what, void* self_ptr, void*) {
    auto* self = static_cast<Pool*>(self_ptr);
    auto it = self->sockets.find(fd);
    if (what == CURL_POLL_REMOVE) {
      if (it == self->sockets.end()) return 0;
      if (it->second->opened_by_us)
        it->second->want = 0;  // pending waits stay armed
      else
        self->forget(it);
      return 0;
    }
    if (it == self->sockets.end()) {
      auto w = std::make_shared<SocketWatch>(self->io);
      boost::system::error_code ec;
      w->sd.assign(fd, ec);
      if (ec) return -1;  // libcurl fails the transfers on this socket
      it = self->sockets.emplace(fd, std::move(w)).first;
    }
    it->second->want = what;
    self->arm(fd, it->second);
    return 0;
  }

  // Connection sockets are opened and closed here so that their Asio
  // registration lives exactly as long as the descriptor.
  static curl_socket_t on_open(void* self_ptr, curlsocktype purpose, curl_sockaddr* addr) {
    auto* self = static_cast<Pool*>(self_ptr);
    if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
    const int fd = ::socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    if (fd < 0) return CURL_SOCKET_BAD;
    // The number is back while we still watch it: libcurl closed the old
    // socket without on_close (see SocketWatch). Drop that watch first.
    if (auto stale = self->sockets.find(fd); stale != self->sockets.end()) self->drop(stale);
    const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) {
      ::close(fd);
      return CURL_SOCKET_BAD;
    }
    auto w = std::make_shared<SocketWatch>(self->io);
    w->opened_by_us = true;
    boost::system::error_code ec;
    w->sd.assign(own, ec);
    if (ec) {
      ::close(own);
      ::close(fd);
      return CURL_SOCKET_BAD;
    }
    self->sockets.emplace(fd, std::move(w));
    return fd;
  }

  static int on_close(void* self_ptr, curl_socket_t fd) {
    auto* self = static_cast<Pool*>(self_ptr);
    auto it = self->sockets.find(fd);
    if (it != self->sockets.end()) self->drop(it);  // our duplicate first: its epoll entry goes with it
    return ::close(fd);
  }

  static int on_timer(CURLM*, long timeout_ms, void* self_ptr) {
    auto* self = static_cast<Pool*>(self_ptr);
    const std::uint64_t generation = ++self->timer_generation;
    self->timer.cancel();
    if (timeout_ms < 0) return 0;
    // The handlers may outlive the pool: they check the liveness token before
    // touching `self`, and a newer timer request supersedes older ones.
    auto fire = [self, generation, weak = std::weak_ptr<bool>(self->alive)] {
      if (weak.expired() || generation != self->timer_generation) return;
      self->act(CURL_SOCKET_TIMEOUT, 0);
    };
    if (timeout_ms == 0) {
      // "Run now" comes with every new transfer: one posted kick serves all the
      // transfers started before it runs, and costs no timerfd update.
      if (!self->kick_posted) {
        self->kick_posted = true;
        asio::post(self->io, [self, weak = std::weak_ptr<bool>(self->alive)] {
          if (weak.expired()) return;
          self->kick_posted = false;
          self->act(CURL_SOCKET_TIMEOUT, 0);
        });
      }
      return 0;
    }
    self->timer.expires_after(milliseconds(timeout_ms));
    self->timer.async_wait([fire](const boost::system::error_code& ec) {
      if (!ec) fire();
    });
    return 0;
  }

  // ---- socket watching -----------------------------------------------------

  // A socket of on_open's: closes our duplicate (cancelling its waits) and
  // forgets it; libcurl's descriptor is libcurl's to close.
  template <class It>
  void drop(It it) {
    it->second->closed = true;
    boost::system::error_code ec;
    it->second->sd.close(ec);
    sockets.erase(it);
  }

  template <class It>
  void forget(It it) {
    it->second->closed = true;
    it->second->sd.release();  // cancels pending waits; libcurl closes the fd
    sockets.erase(it);
  }

  void arm(curl_socket_t fd, const std::shared_ptr<SocketWatch>& w) {
    if ((w->want & CURL_POLL_IN) && !w->reading) {
      w->reading = true;
      w->sd.async_wait(asio::posix::descriptor_base::wait_read,
                       [this, fd, w](const boost::system::error_code& ec) {
                         w->reading = false;
                         on_ready(fd, w, ec, CURL_CSELECT_IN);
                       });
    }
    if ((w->want & CURL_POLL_OUT) && !w->writing) {
      w->writing = true;
      w->sd.async_wait(asio::posix::descriptor_base::wait_write,
                       [this, fd, w](const boost::system::error_code& ec) {
                         w->writing = false;
                         on_ready(fd, w, ec, CURL_CSELECT_OUT);
                       });
    }
  }

  void on_ready(curl_socket_t fd, const std::shared_ptr<SocketWatch>& w,
                const boost::system::error_code& ec, int events) {
    if (w->closed) return;  // first: `this` may be gone once the watch is closed
    if (ec == asio::error::operation_aborted) {
      arm(fd, w);
      return;
    }
    // An event on an idle cached connection (the device closed it) is passed
    // on too: libcurl notices the close.
    act(fd, ec ? CURL_CSELECT_ERR : events);
    if (!w->closed && !ec) arm(fd, w);
  }

  void act(curl_socket_t fd, int events);

  HttpFetcher::Impl& owner;
  asio::io_context& io;
  CURLM* multi = nullptr;
  asio::steady_timer timer;
  std::unordered_map<curl_socket_t, std::shared_ptr<SocketWatch>> sockets;
  std::uint64_t timer_generation = 0;
  bool kick_posted = false;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

}  // namespace

struct HttpFetcher::Impl {
  Impl(asio::io_context& io, FetcherOptions options)
      : io(io), options(options), plain(io, options, stats) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    pools.resize(std::max(1U, options.connection_pools));
  }

  ~Impl() {
    for (auto& [id, t] : transfers) {
      curl_multi_remove_handle(t->pool->multi, t->easy);
      curl_easy_cleanup(t->easy);
    }
    transfers.clear();
    pools.clear();
    for (CURL* e : idle) curl_easy_cleanup(e);
    *alive = false;
  }

  // The pool of a URL's scheme://authority: one device keeps meeting its own
  // connection, and a host's connections (and its connection bound) stay in one.
  Pool& pool_for(std::string_view url) {
    const auto scheme_end = url.find("://");
    const auto authority = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
    const auto origin_end = std::min(url.find_first_of("/?#", authority), url.size());
    auto& slot = pools[std::hash<std::string_view>{}(url.substr(0, origin_end)) % pools.size()];
    if (!slot) slot = std::make_unique<Pool>(*this, io, options);
    return *slot;
  }

  // ---- completion ----------------------------------------------------------

  void finish_done(Pool& pool) {
    // Drain libcurl's message queue before removing any handle: removal scans
    // the queue, so removing while thousands of messages wait (a timeout storm)
    // would be quadratic. Callbacks run last: they may start or cancel requests.
    done_msgs.clear();
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(pool.multi, &left))
      if (msg->msg == CURLMSG_DONE) done_msgs.emplace_back(msg->easy_handle, msg->data.result);
    if (done_msgs.empty()) return;
    std::vector<std::pair<FetchCallback, Result<FetchResponse>>> ready;
    ready.reserve(done_msgs.size());
    for (auto [easy, code] : done_msgs) {
      Transfer* raw = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &raw);
      auto it = raw == nullptr ? transfers.end() : transfers.find(raw->id);
      if (it == transfers.end()) {  // not ours any more: just detach it
        curl_multi_remove_handle(pool.multi, easy);
        continue;
      }
      std::unique_ptr<Transfer> t = std::move(it->second);
      transfers.erase(it);
      ready.emplace_back(std::move(t->done), outcome(*t, code));
      recycle(*t);
    }
    for (auto& [done, result] : ready) done(std::move(result));
  }

  Result<FetchResponse> outcome(Transfer& t, CURLcode code) {
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK || status >= 400 || t.too_large) {
      ++stats.failed;
      const auto failure =
          t.too_large ? detail::TransferFailure::too_large : detail::classify(code);
      const std::string detail =
          fmt::format("{} ({})", t.errbuf[0] != '\0' ? t.errbuf : curl_easy_strerror(code),
                      static_cast<int>(code));
      return detail::transfer_error(
          detail::TransferOutcome{failure, status, t.max_body, detail, t.device_id, t.url, t.post});
    }
    curl_off_t total_us = 0;
    curl_easy_getinfo(t.easy, CURLINFO_TOTAL_TIME_T, &total_us);
    long connects = 0;
    curl_easy_getinfo(t.easy, CURLINFO_NUM_CONNECTS, &connects);
    ++stats.succeeded;
    return FetchResponse{status, std::move(t.body), std::chrono::microseconds(total_us), connects};
  }

  CURL* take_easy() {
    if (idle.empty()) return curl_easy_init();
    CURL* e = idle.back();
    idle.pop_back();
    return e;
  }

  void recycle(Transfer& t) {
    curl_multi_remove_handle(t.pool->multi, t.easy);
    if (idle.size() < kIdleEasyHandles) {
      curl_easy_reset(t.easy);
      idle.push_back(t.easy);
    } else {
      curl_easy_cleanup(t.easy);
    }
  }

  void configure(CURL* e, const FetchRequest& r, Transfer* t) {
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &write_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &Pool::on_open);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t->pool);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &Pool::on_close);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, t->pool);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, std::max(1L, to_ms(r.timeout)));
    const Duration connect = r.connect_timeout > Duration::zero() ? r.connect_timeout : r.timeout;
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, std::max(1L, to_ms(connect)));
    // Rejects early on a Content-Length above the cap; write_body catches the rest.
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(r.max_body));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r.verify_tls ? 2L : 0L);
    if (!r.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
    if (r.post_body) {  // COPYPOSTFIELDS: libcurl keeps its own copy for the transfer's life
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.post_body->size()));
      curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, r.post_body->c_str());
    }
    curl_easy_setopt(e, CURLOPT_USERAGENT, "edgepoll/0.1");
    curl_easy_setopt(
        e, CURLOPT_MAXAGE_CONN,
        std::max(1L, static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(
                                           options.max_idle_connection_age)
                                           .count())));
    switch (r.auth.kind) {
      case AuthKind::none:
        break;
      case AuthKind::basic:
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, r.auth.username.c_str());
        curl_easy_setopt(e, CURLOPT_PASSWORD, r.auth.secret.c_str());
        break;
      case AuthKind::bearer:
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
        curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, r.auth.secret.c_str());
        break;
    }
  }

  RequestId fetch(const FetchRequest& r, FetchCallback done) {
    if (options.plain_http_client && detail::plain_client_can_send(r)) {
      if (const auto url = parse_plain_url(r.url)) {
        const RequestId id = next_id++;
        ++stats.started;
        plain.fetch(id, *url, r, std::move(done));
        return id;
      }
    }
    auto t = std::make_unique<Transfer>();
    t->id = next_id++;
    t->done = std::move(done);
    t->max_body = r.max_body;
    t->device_id = r.device_id;
    t->url = r.url;
    t->post = r.post_body.has_value();
    t->pool = &pool_for(r.url);
    t->easy = take_easy();
    ++stats.started;
    const RequestId id = t->id;
    CURLMcode rc = CURLM_OUT_OF_MEMORY;
    if (t->easy != nullptr) {
      configure(t->easy, r, t.get());
      rc = curl_multi_add_handle(t->pool->multi, t->easy);
    }
    if (rc != CURLM_OK) {
      ++stats.failed;
      if (t->easy != nullptr) curl_easy_cleanup(t->easy);
      Error error =
          make_error("pollers.http.internal",
                     std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc), true);
      asio::post(io, [weak = std::weak_ptr<bool>(alive), cb = std::move(t->done),
                      error = std::move(error)]() mutable {
        if (auto a = weak.lock(); a && *a) cb(std::move(error));
      });
      return id;
    }
    transfers.emplace(id, std::move(t));
    return id;
  }

  void cancel(RequestId id) {
    if (plain.cancel(id)) {
      ++stats.cancelled;
      return;
    }
    auto it = transfers.find(id);
    if (it == transfers.end()) return;
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers.erase(it);
    recycle(*t);
    ++stats.cancelled;
  }

  std::size_t pools_in_use() const {
    return static_cast<std::size_t>(
        std::count_if(pools.begin(), pools.end(), [](const auto& p) { return p != nullptr; }));
  }

  asio::io_context& io;
  FetcherOptions options;
  std::vector<std::unique_ptr<Pool>> pools;  // made on first use
  std::unordered_map<RequestId, std::unique_ptr<Transfer>> transfers;
  std::vector<CURL*> idle;
  std::vector<std::pair<CURL*, CURLcode>> done_msgs;  // reused by finish_done
  RequestId next_id = 1;
  FetcherStats stats;
  detail::PlainHttpClient plain;  // after stats, which it counts in
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

namespace {
void Pool::act(curl_socket_t fd, int events) {
  int running = 0;
  curl_multi_socket_action(multi, fd, events, &running);
  owner.finish_done(*this);
}
}  // namespace

HttpFetcher::HttpFetcher(asio::io_context& io, FetcherOptions options)
    : impl_(std::make_unique<Impl>(io, options)) {}
HttpFetcher::~HttpFetcher() = default;

RequestId HttpFetcher::fetch(const FetchRequest& request, FetchCallback done) {
  return impl_->fetch(request, std::move(done));
}
void HttpFetcher::cancel(RequestId id) {
  impl_->cancel(id);
}
std::size_t HttpFetcher::in_flight() const {
  return impl_->transfers.size() + impl_->plain.in_flight();
}
const FetcherStats& HttpFetcher::stats() const {
  return impl_->stats;
}
std::size_t HttpFetcher::pools_in_use() const {
  return impl_->pools_in_use();
}

}  // namespace edgepoll::pollers
