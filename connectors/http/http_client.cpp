// CurlHttpClient: one libcurl easy handle per client, reused so connections are kept alive.
//
// Why the size cap lives in the write callback: CURLOPT_MAXFILESIZE_LARGE (before curl 8.4) only
// checks Content-Length, so a chunked or streamed body would be read whole (measured with curl
// 7.88: --max-filesize 10000 downloaded all of a chunked 1 MB reply). The write callback sees
// decoded bytes, so the same check bounds gzip bombs too.

#include "core/text.hpp"
#include "connectors/http/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "connectors/http/http_error.hpp"
#include "connectors/http/redirect.hpp"
#include "core/text.hpp"

namespace erpsync::connectors::http {

// ---- HeaderMap ---------------------------------------------------------------------------------

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

void HeaderMap::add(std::string name, std::string value) {
  entries_.emplace_back(std::move(name), std::move(value));
}

void HeaderMap::set(std::string name, std::string value) {
  remove(name);
  add(std::move(name), std::move(value));
}

void HeaderMap::remove(std::string_view name) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const Entry& e) { return iequals(e.first, name); }),
                 entries_.end());
}

std::optional<std::string> HeaderMap::get(std::string_view name) const {
  for (const auto& [n, v] : entries_) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

std::vector<std::string> HeaderMap::get_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : entries_) {
    if (iequals(n, name)) out.push_back(v);
  }
  return out;
}

Response HttpClient::send_checked(const Request& request) {
  Response response = send(request);
  throw_for_status(response, redactor());
  return response;
}

// ---- CurlHttpClient ----------------------------------------------------------------------------

namespace {

struct GlobalInit {
  GlobalInit() {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  }
};

void ensure_global_init() {
  // Thread-safe since C++11; libcurl >= 7.84 makes curl_global_init itself thread-safe too.
  static GlobalInit init;
}

struct CurlSlist {
  curl_slist* list = nullptr;
  CurlSlist() = default;
  CurlSlist(const CurlSlist&) = delete;
  CurlSlist& operator=(const CurlSlist&) = delete;
  ~CurlSlist() { curl_slist_free_all(list); }
  void append(const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (!next) throw std::bad_alloc();
    list = next;
  }
};

}  // namespace

struct CurlHttpClient::Impl {
  CURL* easy = nullptr;

  // Per-exchange state, reset by send().
  Response* response = nullptr;
  std::size_t max_bytes = 0;
  bool too_large = false;
  const Redactor* redactor = nullptr;
  const LogSink* log = nullptr;

  ~Impl() {
    if (easy) curl_easy_cleanup(easy);
  }

  static size_t on_write(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Impl*>(user);
    const size_t n = size * count;
    if (self->response->body.size() + n > self->max_bytes) {
      self->too_large = true;
      return 0;  // short count: libcurl aborts with CURLE_WRITE_ERROR
    }
    self->response->body.append(data, n);
    return n;
  }

  static size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Impl*>(user);
    const size_t n = size * count;
    std::string_view line(data, n);
    if (line.rfind("HTTP/", 0) == 0) {
      // A new status line (after a redirect or a 100 Continue): keep only the final headers.
      self->response->headers.clear();
      return n;
    }
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && colon > 0) {
      self->response->headers.add(core::trimmed(line.substr(0, colon)), core::trimmed(line.substr(colon + 1)));
    }
    return n;
  }

  static int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
    auto* self = static_cast<Impl*>(user);
    if (!self->log || !*self->log) return 0;
    const char* prefix = nullptr;
    switch (type) {
      case CURLINFO_TEXT: prefix = "* "; break;
      case CURLINFO_HEADER_IN: prefix = "< "; break;
      case CURLINFO_HEADER_OUT: prefix = "> "; break;
      default: return 0;  // bodies are never traced
    }
    std::string_view text(data, size);
    // HEADER_OUT is the whole request head in one call; log it line by line.
    while (!text.empty()) {
      auto eol = text.find('\n');
      std::string_view line = text.substr(0, eol);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty()) {
        (*self->log)(LogLevel::debug, std::string("curl ") + prefix + self->redactor->text(line));
      }
      if (eol == std::string_view::npos) break;
      text.remove_prefix(eol + 1);
    }
    return 0;
  }
};

CurlHttpClient::CurlHttpClient(ClientOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  ensure_global_init();
  for (const auto& s : options_.secrets) redactor_.add_secret(s);
  for (const auto& h : options_.secret_headers) redactor_.add_secret_header(h);
  impl_->easy = curl_easy_init();
  if (!impl_->easy) throw std::runtime_error("curl_easy_init failed");
  impl_->redactor = &redactor_;
  impl_->log = &options_.log;
  if (options_.insecure_skip_tls_verify && options_.log) {
    options_.log(LogLevel::error,
                 "TLS certificate verification is DISABLED for this HTTP client "
                 "(insecure_skip_tls_verify): responses can be forged by anyone on the path");
  }
}

CurlHttpClient::~CurlHttpClient() = default;

Response CurlHttpClient::send(const Request& request) {
  std::lock_guard lock(mutex_);
  // Redirects are followed here, hop by hop, so that credentials stay with their origin
  // (redirect.hpp); libcurl's own following would carry custom headers and bodies along.
  const std::string credential_origin = url_origin(request.url);
  Exchange exchange = perform(request);
  if (options_.max_redirects <= 0) return std::move(exchange.response);
  Request current;
  for (long hops = 0; is_redirect(exchange.response.status) && !exchange.redirect_url.empty(); ++hops) {
    const Request& sent = hops == 0 ? request : current;
    if (hops == options_.max_redirects)
      throw HttpError(core::SyncError::Kind::permanent,
                      request.method + " " + redactor_.url(request.url) + ": more than " +
                          std::to_string(options_.max_redirects) + " redirects (last to " +
                          redactor_.url(exchange.redirect_url) + "); configure the final URL",
                      exchange.response.status);
    Request next = redirected_request(sent, exchange.response.status, exchange.redirect_url, credential_origin,
                                      redactor_);
    current = std::move(next);
    exchange = perform(current);
  }
  return std::move(exchange.response);
}

CurlHttpClient::Exchange CurlHttpClient::perform(const Request& request) {
  CURL* h = impl_->easy;
  // Keeps the connection cache (keep-alive) and session IDs; clears every option set before.
  curl_easy_reset(h);

  Response response;
  response.description = request.method + " " +
                         (request.summary.empty() ? redactor_.url(request.url) : redactor_.text(request.summary));
  impl_->response = &response;
  impl_->max_bytes = options_.max_response_bytes;
  impl_->too_large = false;

  const Timeouts& t = request.timeouts ? *request.timeouts : options_.timeouts;
  char errbuf[CURL_ERROR_SIZE] = {0};
  CurlSlist headers;
  bool has_user_agent = false;
  for (const auto& [name, value] : request.headers.entries()) {
    headers.append(name + ": " + value);
    if (iequals(name, "User-Agent")) has_user_agent = true;
  }
  // No "Expect: 100-continue" round trip (a 1 s stall on servers that ignore it).
  headers.append("Expect:");

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // send() follows, see redirect.hpp
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(t.connect.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(t.total.count()));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, t.low_speed_bytes);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(t.low_speed_time.count()));
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // every encoding curl can decode
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(options_.max_response_bytes));  // early, when declared
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Impl::on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, impl_.get());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Impl::on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, impl_.get());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.list);
  if (!has_user_agent) curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  if (!options_.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_bundle.c_str());
  if (options_.insecure_skip_tls_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    if (options_.log) {
      options_.log(LogLevel::warn, "TLS verification disabled for " + response.description);
    }
  } else {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  }
  if (options_.proxy) curl_easy_setopt(h, CURLOPT_PROXY, options_.proxy->c_str());
  if (options_.trace && options_.log) {
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, &Impl::on_debug);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, impl_.get());
  }

  if (request.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }

  const auto started = std::chrono::steady_clock::now();
  const CURLcode rc = curl_easy_perform(h);
  response.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  impl_->response = nullptr;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);

  if (rc != CURLE_OK) {
    std::string message;
    core::SyncError::Kind kind = classify_transport(rc);
    if (impl_->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
      kind = core::SyncError::Kind::permanent;
      message = response.description + ": response larger than " +
                std::to_string(options_.max_response_bytes) + " bytes, aborted";
    } else {
      const std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
      message = response.description + ": " + curl_easy_strerror(rc) + " (" +
                redactor_.text(detail) + ")";
      if (response.status > 0) message += " after HTTP " + std::to_string(response.status);
      message += " after " + std::to_string(response.elapsed.count()) + " ms";
    }
    if (options_.log) options_.log(LogLevel::debug, message);
    throw HttpError(kind, message, 0);
  }
  if (options_.log) {
    options_.log(LogLevel::debug, response.description + " -> " + std::to_string(response.status) +
                                      " " + std::to_string(response.body.size()) + " bytes in " +
                                      std::to_string(response.elapsed.count()) + " ms");
  }
  Exchange exchange;
  // The absolute URL of a Location header (libcurl resolves a relative one against the request).
  char* redirect = nullptr;
  if (is_redirect(response.status) && curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK && redirect)
    exchange.redirect_url = redirect;
  exchange.response = std::move(response);
  return exchange;
}

}  // namespace erpsync::connectors::http
