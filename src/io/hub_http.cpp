#include "io/hub_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <exception>
#include <mutex>

namespace entroscope::io::hub {

namespace {

constexpr std::size_t kMaxKeptBody = 1 << 20;         // error bodies of streamed requests
constexpr std::size_t kMaxInMemoryBody = 256u << 20;  // JSON answers; anything bigger is not an API answer

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool retryable_code(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

// State shared with the libcurl callbacks of one transfer.
struct Transfer {
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  CURL* curl = nullptr;
  bool headers_reported = false;
  bool streaming = false;
  bool body_too_big = false;
  bool stalled = false;
  long stall_timeout_s = 0;
  curl_off_t last_bytes = -1;
  std::chrono::steady_clock::time_point last_change = std::chrono::steady_clock::now();
  std::exception_ptr error;

  void report_headers() {
    if (headers_reported) return;
    headers_reported = true;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response->status);
    char* effective = nullptr;
    if (curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK && effective != nullptr)
      response->url = effective;
    if (request->on_headers) streaming = request->on_headers(*response);
  }
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  add_header_line(std::string_view(data, size * count), t->response->headers);
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t n = size * count;
  try {
    t->report_headers();
    if (t->streaming) {
      t->request->on_data(data, n);
    } else {
      std::size_t cap = t->request->on_headers ? kMaxKeptBody : kMaxInMemoryBody;
      if (t->response->body.size() + n > cap) {
        t->body_too_big = true;
        return 0;
      }
      t->response->body.append(data, n);
    }
  } catch (...) {
    t->error = std::current_exception();
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  return n;
}

// Aborts a transfer that has received nothing for stall_timeout_s (libcurl's own low-speed check
// averages over several seconds and reacts late).
int on_progress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(user);
  auto now = std::chrono::steady_clock::now();
  curl_off_t moved = dlnow + ulnow;
  if (moved != t->last_bytes) {
    t->last_bytes = moved;
    t->last_change = now;
    return 0;
  }
  if (t->stall_timeout_s > 0 && now - t->last_change >= std::chrono::seconds(t->stall_timeout_s)) {
    t->stalled = true;
    return 1;  // CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

template <typename T>
void set(CURL* curl, CURLoption option, T value) {
  curl_easy_setopt(curl, option, value);
}

}  // namespace

void HttpHeaders::add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }

std::optional<std::string> HttpHeaders::get(const std::string& name) const {
  std::string wanted = lower(name);
  for (auto it = items_.rbegin(); it != items_.rend(); ++it) {
    if (lower(it->first) == wanted) return it->second;
  }
  return std::nullopt;
}

HttpClient::HttpClient(Options options) : options_(std::move(options)) {
  global_init();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) fail("cannot initialise libcurl");
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpResponse HttpClient::perform(const HttpRequest& request) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);  // keeps the connection cache

  HttpResponse response;
  response.method = request.head ? "HEAD" : "GET";
  response.url = request.url;
  Transfer transfer;
  transfer.request = &request;
  transfer.response = &response;
  transfer.curl = curl;
  char error_buffer[CURL_ERROR_SIZE] = {0};

  set(curl, CURLOPT_URL, request.url.c_str());
  set(curl, CURLOPT_NOSIGNAL, 1L);
  set(curl, CURLOPT_ERRORBUFFER, error_buffer);
#if LIBCURL_VERSION_NUM >= 0x075500
  set(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  set(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  set(curl, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  set(curl, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  set(curl, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
  transfer.stall_timeout_s = options_.stall_timeout_s;
  set(curl, CURLOPT_NOPROGRESS, 0L);
  set(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  set(curl, CURLOPT_XFERINFODATA, &transfer);
  if (!options_.user_agent.empty()) set(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  if (request.head) set(curl, CURLOPT_NOBODY, 1L);
  if (request.follow_redirects) {
    set(curl, CURLOPT_FOLLOWLOCATION, 1L);
    set(curl, CURLOPT_MAXREDIRS, 10L);
  }
  if (!request.identity_encoding) set(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode

  curl_slist* headers = nullptr;
  if (request.identity_encoding) headers = curl_slist_append(headers, "Accept-Encoding: identity");
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  if (headers != nullptr) set(curl, CURLOPT_HTTPHEADER, headers);

  set(curl, CURLOPT_HEADERFUNCTION, on_header);
  set(curl, CURLOPT_HEADERDATA, &transfer);
  set(curl, CURLOPT_WRITEFUNCTION, on_body);
  set(curl, CURLOPT_WRITEDATA, &transfer);

  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);

  if (transfer.error) std::rethrow_exception(transfer.error);
  if (transfer.body_too_big) {
    throw HttpTransportError(fmt::format("{} {}: response body too large", response.method, request.url), 0, false);
  }
  if (transfer.stalled) {
    throw HttpTransportError(fmt::format("{} {}: no data received for {} s", response.method, request.url,
                                         options_.stall_timeout_s),
                             static_cast<int>(CURLE_OPERATION_TIMEDOUT), true,
                             fmt::format("no data received for {} s", options_.stall_timeout_s));
  }
  if (code != CURLE_OK) {
    std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    throw HttpTransportError(fmt::format("{} {}: {}", response.method, request.url, detail), static_cast<int>(code),
                             retryable_code(code), detail);
  }
  transfer.report_headers();  // a response without a body never reached on_body
  return response;
}

std::string url_origin(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return {};
  auto host_end = url.find_first_of("/?#", scheme_end + 3);
  return lower(url.substr(0, host_end));
}

std::string url_encode(const std::string& s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

void add_header_line(std::string_view view, HttpHeaders& headers) {
  const std::string line(view);
  if (line.rfind("HTTP/", 0) == 0) {
    headers.clear();  // a new response (after a redirect or a 100 Continue)
  } else if (auto colon = line.find(':'); colon != std::string::npos) {
    headers.add(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
}

}  // namespace entroscope::io::hub
