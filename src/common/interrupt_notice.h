#pragma once
// What a long command says when it is interrupted (Ctrl-C, SIGTERM from a scheduler): a message
// on stderr and in the log file being written, then the default action of the signal (so the
// exit status still says "killed by SIGINT"). The handler only calls write(2).
#include <string>

namespace entroscope {

// Installs the handler for SIGINT and SIGTERM with this message (a trailing newline is added).
void install_interrupt_notice(const std::string& message);

// The log file the message also goes to (-1: none). RunLog sets it while a model's log is open.
void set_interrupt_log_fd(int fd);

}  // namespace entroscope
