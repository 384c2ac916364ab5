// FakeHttpServer: see fake_http_server.hpp.
//
// Requests are parsed by Boost.Beast; responses are written by hand, byte by byte as scripted,
// because the point is to send what a well-behaved serializer would refuse to (a Content-Length
// larger than the body, half a chunk, a reset in mid-head).
//
// Shutdown: every blocking socket call is woken by shutdown(2) on its descriptor (accept, read
// and write all return at once on Linux), and every wait (delay, stall) is a condition-variable
// wait that also watches `stopping_`. So stop() is bounded even with stalled connections.

#include "support/fake_http_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <stdexcept>

namespace erpsync::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    if (!part.empty()) {
      auto eq = part.find('=');
      out.emplace_back(percent_decode(part.substr(0, eq), true),
                       eq == std::string_view::npos ? "" : percent_decode(part.substr(eq + 1), true));
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

// Streaming gzip (zlib, windowBits 15 + 16).
class Gzip {
 public:
  Gzip() {
    if (deflateInit2(&z_, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::runtime_error("deflateInit2 failed");
    }
  }
  ~Gzip() { deflateEnd(&z_); }
  Gzip(const Gzip&) = delete;
  Gzip& operator=(const Gzip&) = delete;

  std::string feed(std::string_view in, bool finish) {
    std::string out;
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    char buf[64 * 1024];
    int rc;
    do {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      rc = deflate(&z_, finish ? Z_FINISH : Z_NO_FLUSH);
      out.append(buf, sizeof buf - z_.avail_out);
    } while (z_.avail_out == 0 || (finish && rc != Z_STREAM_END));
    return out;
  }

 private:
  z_stream z_{};
};

std::string gzip_all(std::string_view in) {
  Gzip g;
  return g.feed(in, true);
}

std::string hex(std::size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%zx", n);
  return buf;
}

std::string chunk(std::string_view data) {
  return hex(data.size()) + "\r\n" + std::string(data) + "\r\n";
}

}  // namespace

// ---- RecordedRequest / FakeReply ----------------------------------------------------------------

std::optional<std::string> RecordedRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

std::optional<std::string> RecordedRequest::query_param(std::string_view name) const {
  for (const auto& [n, v] : query) {
    if (n == name) return v;
  }
  return std::nullopt;
}

FakeReply FakeReply::json(unsigned status, std::string body) {
  FakeReply r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  return r;
}

FakeReply FakeReply::text(unsigned status, std::string body) {
  FakeReply r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  return r;
}

FakeReply FakeReply::xml(unsigned status, std::string body) {
  FakeReply r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "text/xml; charset=utf-8");
  return r;
}

FakeReply FakeReply::html_error(unsigned status, std::string title, std::string message) {
  FakeReply r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "text/html; charset=UTF-8");
  r.body = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + title +
           "</title>\n<style>body{font-family:sans-serif;background:#eee}h1{color:#900}</style>\n"
           "<script>window.dataLayer=window.dataLayer||[];function gtag(){}</script>\n</head>\n"
           "<body>\n<!-- generated by the front proxy -->\n<div class=\"wrap\"><h1>" + title +
           "</h1>\n<p>" + message + "</p>\n</div>\n" + std::string(2000, ' ') +
           "<footer>nginx</footer>\n</body>\n</html>\n";
  return r;
}

FakeReply FakeReply::generated(std::uint64_t size) {
  FakeReply r;
  r.generated_size = size;
  r.chunked = true;
  r.headers.emplace_back("Content-Type", "application/octet-stream");
  return r;
}

FakeReply& FakeReply::with_header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}
FakeReply& FakeReply::with_delay(std::chrono::milliseconds d) {
  delay = d;
  return *this;
}
FakeReply& FakeReply::with_fault(Fault f, std::size_t after_bytes) {
  fault = f;
  fault_after_bytes = after_bytes;
  return *this;
}
FakeReply& FakeReply::with_gzip() {
  gzip = true;
  return *this;
}
FakeReply& FakeReply::with_chunked() {
  chunked = true;
  return *this;
}

// ---- FakeHttpServer ----------------------------------------------------------------------------

struct FakeHttpServer::Connection {
  std::uint64_t id = 0;
  net::io_context io;
  tcp::socket socket{io};
  bool write(FakeHttpServer& server, std::string_view bytes, std::size_t body_bytes = 0) {
    boost::system::error_code ec;
    net::write(socket, net::buffer(bytes.data(), bytes.size()), ec);
    if (ec) return false;
    if (body_bytes) {
      std::lock_guard lock(server.mutex_);
      server.body_bytes_sent_ += body_bytes;
    }
    return true;
  }
};

FakeHttpServer::FakeHttpServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // the OS picks a free port
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("cannot listen on 127.0.0.1:0");
  }
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { accept_loop(); });
}

FakeHttpServer::~FakeHttpServer() { stop(); }

std::string FakeHttpServer::url(std::string_view path_and_query) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path_and_query);
}

void FakeHttpServer::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !accept_thread_.joinable() && threads_.empty()) return;
    stopping_ = true;
    if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    for (auto& [id, conn] : connections_) ::shutdown(conn->socket.native_handle(), SHUT_RDWR);
  }
  changed_.notify_all();
  if (accept_thread_.joinable()) accept_thread_.join();
  {
    // No new connection threads can appear now: the accept loop has ended.
    std::lock_guard lock(mutex_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void FakeHttpServer::accept_loop() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    std::lock_guard lock(mutex_);
    if (stopping_) {
      if (fd >= 0) ::close(fd);
      return;
    }
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    auto conn = std::make_shared<Connection>();
    conn->id = next_connection_id_++;
    conn->socket.assign(tcp::v4(), fd);
    connections_[conn->id] = conn;
    threads_.emplace_back([this, conn] { serve(conn); });
  }
}

bool FakeHttpServer::wait_interruptible(std::optional<Clock::time_point> deadline, bool stall) {
  std::unique_lock lock(mutex_);
  const auto generation = release_generation_;
  if (stall) {
    ++stalled_;
    changed_.notify_all();
  }
  auto done = [&] { return stopping_ || (stall && release_generation_ != generation); };
  if (deadline) {
    changed_.wait_until(lock, *deadline, done);
  } else {
    changed_.wait(lock, done);
  }
  if (stall) --stalled_;
  return stopping_;
}

void FakeHttpServer::serve(std::shared_ptr<Connection> conn) {
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(std::uint64_t{256} << 20);
    boost::system::error_code ec;
    bhttp::read(conn->socket, buffer, parser, ec);
    if (ec) break;
    auto& req = parser.get();

    RecordedRequest rec;
    rec.received_at = Clock::now();
    rec.connection_id = conn->id;
    rec.method = std::string(req.method_string());
    rec.target = std::string(req.target());
    const auto q = rec.target.find('?');
    rec.path = percent_decode(std::string_view(rec.target).substr(0, q), false);
    if (q != std::string::npos) rec.query = parse_query(std::string_view(rec.target).substr(q + 1));
    for (const auto& field : req) {
      rec.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    rec.body = req.body();
    const bool keep_alive = req.keep_alive();
    {
      std::lock_guard lock(mutex_);
      rec.sequence = requests_.size();
      requests_.push_back(rec);
    }
    changed_.notify_all();

    FakeReply reply;
    try {
      reply = dispatch(rec);
    } catch (const std::exception& e) {
      reply = FakeReply::text(500, std::string("fake handler threw: ") + e.what());
    }
    if (reply.delay.count() > 0 && wait_interruptible(Clock::now() + reply.delay, false)) break;
    bool go_on = keep_alive && !reply.close_after;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) go_on = false;
    }
    write_reply(*conn, reply, go_on);
    if (reply.fault != FakeReply::Fault::none) go_on = false;
    if (!go_on) break;
  }
  {
    std::lock_guard lock(mutex_);
    connections_.erase(conn->id);
    ++closed_connections_;
    boost::system::error_code ec;
    conn->socket.close(ec);
  }
  changed_.notify_all();
}

void FakeHttpServer::write_reply(Connection& conn, const FakeReply& reply, bool keep_alive) {
  using Fault = FakeReply::Fault;
  if (reply.fault == Fault::close) return;

  std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                     std::string(bhttp::obsolete_reason(static_cast<bhttp::status>(reply.status))) +
                     "\r\n";
  for (const auto& [n, v] : reply.headers) head += n + ": " + v + "\r\n";
  if (reply.gzip) head += "Content-Encoding: gzip\r\n";
  head += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";

  if (reply.generated_size) {
    head += "Transfer-Encoding: chunked\r\n\r\n";
    if (!conn.write(*this, head)) return;
    std::string pattern;
    for (int i = 0; i < 64 * 1024; ++i) pattern += static_cast<char>('a' + i % 26);
    std::optional<Gzip> gz;
    if (reply.gzip) gz.emplace();
    std::uint64_t left = *reply.generated_size;
    std::uint64_t sent = 0;
    while (left > 0) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
      }
      if (reply.fault == Fault::stall && sent >= reply.fault_after_bytes) {
        wait_interruptible(std::nullopt, true);
        return;
      }
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, pattern.size()));
      left -= n;
      sent += n;
      std::string piece = gz ? gz->feed(std::string_view(pattern).substr(0, n), left == 0)
                             : pattern.substr(0, n);
      if (!piece.empty() && !conn.write(*this, chunk(piece), piece.size())) return;
    }
    conn.write(*this, "0\r\n\r\n");
    return;
  }

  const std::string payload = reply.gzip ? gzip_all(reply.body) : reply.body;
  std::string framed;
  if (reply.chunked) {
    head += "Transfer-Encoding: chunked\r\n\r\n";
    // Two chunks when possible, so clients see real chunk boundaries.
    const std::size_t half = payload.size() / 2;
    if (half > 0) framed += chunk(std::string_view(payload).substr(0, half));
    if (payload.size() > half) framed += chunk(std::string_view(payload).substr(half));
    framed += "0\r\n\r\n";
  } else {
    head += "Content-Length: " + std::to_string(payload.size()) + "\r\n\r\n";
    framed = payload;
  }

  switch (reply.fault) {
    case Fault::none:
      conn.write(*this, head + framed, payload.size());
      return;
    case Fault::truncate: {
      const std::size_t n = std::min(reply.fault_after_bytes, framed.size() > 0 ? framed.size() - 1 : 0);
      conn.write(*this, head + framed.substr(0, n), n);
      return;  // the caller closes the connection
    }
    case Fault::stall: {
      const std::size_t n = std::min(reply.fault_after_bytes, framed.size());
      if (!conn.write(*this, head + framed.substr(0, n), n)) return;
      wait_interruptible(std::nullopt, true);
      return;
    }
    case Fault::reset: {
      const std::string all = head + framed;
      const std::size_t n = std::min(reply.fault_after_bytes, all.size());
      if (n > 0) conn.write(*this, std::string_view(all).substr(0, n));
      // SO_LINGER with a zero timeout: close() sends RST instead of FIN.
      ::linger lg{1, 0};
      ::setsockopt(conn.socket.native_handle(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      return;
    }
    case Fault::close:
      return;
  }
}

FakeReply FakeHttpServer::dispatch(const RecordedRequest& request) {
  FakeHandler handler;
  {
    std::lock_guard lock(mutex_);
    for (auto it = routes_.rbegin(); it != routes_.rend(); ++it) {
      if ((it->method == "*" || it->method == request.method) && it->path == request.path &&
          (!it->when || it->when(request))) {
        handler = it->handler;
        break;
      }
    }
  }
  if (!handler) return FakeReply::text(404, "no fake route for " + request.method + " " + request.path);
  return handler(request);
}

void FakeHttpServer::on(std::string method, std::string path, FakeHandler handler,
                        RequestPredicate when) {
  std::lock_guard lock(mutex_);
  routes_.push_back(Route{std::move(method), std::move(path), std::move(when), std::move(handler)});
}

void FakeHttpServer::on(std::string method, std::string path, FakeReply reply,
                        RequestPredicate when) {
  on(std::move(method), std::move(path),
     FakeHandler([reply = std::move(reply)](const RecordedRequest&) { return reply; }),
     std::move(when));
}

void FakeHttpServer::on(std::string method, std::string path, std::vector<FakeReply> sequence,
                        RequestPredicate when) {
  if (sequence.empty()) throw std::invalid_argument("FakeHttpServer::on: empty reply sequence");
  auto replies = std::make_shared<const std::vector<FakeReply>>(std::move(sequence));
  auto next = std::make_shared<std::atomic<std::size_t>>(0);
  on(std::move(method), std::move(path),
     FakeHandler([replies, next](const RecordedRequest&) {
       const std::size_t i = next->fetch_add(1);
       return (*replies)[std::min(i, replies->size() - 1)];
     }),
     std::move(when));
}

void FakeHttpServer::clear_routes() {
  std::lock_guard lock(mutex_);
  routes_.clear();
}

std::vector<RecordedRequest> FakeHttpServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::size_t FakeHttpServer::request_count() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

std::size_t FakeHttpServer::connection_count() const {
  std::lock_guard lock(mutex_);
  return next_connection_id_;
}

std::uint64_t FakeHttpServer::body_bytes_sent() const {
  std::lock_guard lock(mutex_);
  return body_bytes_sent_;
}

bool FakeHttpServer::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

bool FakeHttpServer::wait_for_closed_connections(std::size_t n,
                                                 std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return closed_connections_ >= n; });
}

bool FakeHttpServer::wait_for_stalled(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return stalled_ >= n; });
}

void FakeHttpServer::release_stalls() {
  {
    std::lock_guard lock(mutex_);
    ++release_generation_;
  }
  changed_.notify_all();
}

}  // namespace erpsync::testing
