#include "common/interrupt_notice.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace entroscope {
namespace {

char g_message[4096];
std::size_t g_length = 0;
std::atomic<int> g_log_fd{-1};

void write_all(int fd, const char* data, std::size_t length) {
  while (length > 0) {
    const ssize_t n = ::write(fd, data, length);
    if (n <= 0) return;
    data += n;
    length -= static_cast<std::size_t>(n);
  }
}

void on_signal(int sig) {
  write_all(STDERR_FILENO, g_message, g_length);
  const int fd = g_log_fd.load();
  if (fd >= 0) write_all(fd, g_message, g_length);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

void install_interrupt_notice(const std::string& message) {
  const std::string text = "\n" + message + "\n";
  g_length = std::min(text.size(), sizeof(g_message));
  std::memcpy(g_message, text.data(), g_length);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

void set_interrupt_log_fd(int fd) { g_log_fd.store(fd); }

}  // namespace entroscope
