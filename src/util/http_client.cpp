#include "util/http_client.h"

#include <curl/curl.h>

#include <cctype>
#include <cstdlib>

#include "util/json.h"
#include "util/strings.h"

namespace taco {
namespace {

// A response body over this is not read on (a server streaming without end would otherwise
// take the memory of the whole process); model replies and tool results are far smaller.
constexpr size_t kMaxResponseBytes = 64u << 20;

size_t append_body(char* data, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * n > kMaxResponseBytes) return 0;  // curl stops with CURLE_WRITE_ERROR
  body->append(data, size * n);
  return size * n;
}

size_t read_header(char* data, size_t size, size_t n, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  const std::string line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string::npos && colon > 0) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const size_t b = line.find_first_not_of(" \t", colon + 1);
    const size_t e = line.find_last_not_of(" \t\r\n");
    const std::string value = b == std::string::npos || e < b ? "" : line.substr(b, e - b + 1);
    response->headers[name] = value;
    if (name == "retry-after") response->retry_after_s = std::atof(value.c_str());
  }
  return size * n;
}

int ask_stop(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return (*static_cast<const std::function<bool()>*>(user))() ? 1 : 0;
}

}  // namespace

HttpClient::HttpClient() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpClient::~HttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::acquire() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  CURL* h = curl_easy_init();
  if (!h) throw HttpConnectError("cannot start an HTTP client (curl_easy_init failed)");
  return h;
}

void HttpClient::release(void* handle) const {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(handle);
}

HttpResponse HttpClient::post(const std::string& url, const std::string& body, const std::vector<std::string>& headers,
                              double timeout_s, double connect_timeout_s, const std::function<bool()>& stop) const {
  return perform(url, &body, headers, timeout_s, connect_timeout_s, stop, nullptr);
}

HttpResponse HttpClient::del(const std::string& url, const std::vector<std::string>& headers, double timeout_s) const {
  static const std::string kDelete = "DELETE";
  return perform(url, nullptr, headers, timeout_s, timeout_s, nullptr, &kDelete);
}

HttpResponse HttpClient::get(const std::string& url, const std::vector<std::string>& headers, double timeout_s,
                             double connect_timeout_s) const {
  return perform(url, nullptr, headers, timeout_s, connect_timeout_s, nullptr, nullptr);
}

HttpResponse HttpClient::perform(const std::string& url, const std::string* body, const std::vector<std::string>& headers,
                                 double timeout_s, double connect_timeout_s, const std::function<bool()>& stop,
                                 const std::string* method) const {
  CURL* h = static_cast<CURL*>(acquire());
  struct Release {
    const HttpClient* self;
    CURL* h;
    ~Release() { self->release(h); }
  } release{this, h};
  curl_slist* list = nullptr;
  if (body) {
    list = curl_slist_append(list, "Content-Type: application/json");
    // Without this curl sends "Expect: 100-continue" for large bodies and waits a round trip.
    list = curl_slist_append(list, "Expect:");
  }
  for (const auto& header : headers) list = curl_slist_append(list, header.c_str());
  struct FreeList {
    curl_slist* l;
    ~FreeList() { curl_slist_free_all(l); }
  } free_list{list};

  HttpResponse response;
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  if (body) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  if (method) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method->c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, read_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_s * 1000));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout_s * 1000));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  if (stop) {
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, ask_stop);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &stop);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  }
  CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_ABORTED_BY_CALLBACK) throw HttpStoppedError("the request to " + url + " was abandoned");
  if (rc == CURLE_WRITE_ERROR)
    throw Error(url + " answered with more than " + std::to_string(kMaxResponseBytes >> 20) + " MB; not read on");
  if (rc != CURLE_OK) throw HttpConnectError("cannot reach " + url + ": " + curl_easy_strerror(rc));
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

std::string http_error_message(const std::string& body) {
  const Json j = parse_json_or_discarded(body);
  if (j.is_object()) {
    if (j.contains("error")) {
      const Json& e = j["error"];
      if (e.is_object() && e.contains("message") && e["message"].is_string()) return excerpt(e["message"].get<std::string>(), 500);
      if (e.is_string()) return excerpt(e.get<std::string>(), 500);
    }
    if (j.contains("message") && j["message"].is_string()) return excerpt(j["message"].get<std::string>(), 500);
    if (j.contains("detail") && j["detail"].is_string()) return excerpt(j["detail"].get<std::string>(), 500);
  }
  return excerpt(body);
}

}  // namespace taco
