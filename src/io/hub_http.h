#pragma once
// A small blocking HTTP(S) client over libcurl, for talking to the Hub: HEAD and GET, explicit
// redirect control, response headers of the final response, and bodies either kept in memory or
// streamed to a callback. One client reuses its connections; it is not thread-safe.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace entroscope::io::hub {

class HttpHeaders {
 public:
  void clear() { items_.clear(); }
  void add(std::string name, std::string value);
  // The last value of a header, by case-insensitive name.
  std::optional<std::string> get(const std::string& name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// One header line of an answer as libcurl hands it over ("Name: value\r\n", or a status line
// "HTTP/1.1 302 Found" that starts a new response and clears `headers`). Lines without a colon
// (the blank line ending the headers) are ignored. Names and values are trimmed.
void add_header_line(std::string_view line, HttpHeaders& headers);

struct HttpResponse {
  long status = 0;
  std::string method;
  std::string url;       // the URL that answered (after any redirects curl followed)
  HttpHeaders headers;   // of the final response
  std::string body;      // the body; for a streamed request, only a non-streamed (error) body, capped
};

// No HTTP answer at all: name resolution, connection, TLS, timeout, connection dropped mid-body.
class HttpTransportError : public Error {
 public:
  HttpTransportError(const std::string& message, int curl_code, bool retryable, std::string cause = {})
      : Error(message), curl_code_(curl_code), retryable_(retryable), cause_(std::move(cause)) {}
  int curl_code() const { return curl_code_; }
  bool retryable() const { return retryable_; }
  const std::string& cause() const { return cause_; }  // the failure alone, without method and URL

 private:
  int curl_code_;
  bool retryable_;
  std::string cause_;
};

struct HttpRequest {
  std::string url;
  bool head = false;                 // HEAD instead of GET
  std::vector<std::string> headers;  // "Name: value"
  bool follow_redirects = false;
  bool identity_encoding = true;     // ask for the raw bytes (sizes, hashes and ranges refer to them)
  // Streaming: called with the final status and headers before the first body byte. Return true
  // to receive the body through on_data; false keeps it (capped at 1 MiB) in HttpResponse::body.
  // Exceptions thrown by either callback abort the transfer and propagate out of perform().
  std::function<bool(const HttpResponse&)> on_headers;
  std::function<void(const char* data, std::size_t size)> on_data;
};

class HttpClient {
 public:
  struct Options {
    long connect_timeout_s = 10;
    long stall_timeout_s = 10;  // abort when no byte arrives for this long
    std::string user_agent;
  };
  explicit HttpClient(Options options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs one request. Any HTTP status is a normal return; only transport failures throw
  // (HttpTransportError, naming the method, URL and cause).
  HttpResponse perform(const HttpRequest& request);

 private:
  Options options_;
  void* curl_ = nullptr;
};

// "scheme://host[:port]" of an absolute URL (lower-cased scheme and host), empty if not absolute.
std::string url_origin(const std::string& url);

// Percent-encodes everything except unreserved characters (and '/' when keep_slash).
std::string url_encode(const std::string& s, bool keep_slash);

}  // namespace entroscope::io::hub
