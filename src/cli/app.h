#pragma once

namespace entroscope::cli {

// Parses the command line, runs the chosen subcommand and returns the process exit code:
// 0 success, 1 failure (the error is printed as one line on stderr), 2 bad usage.
int run_main(int argc, char** argv);

}  // namespace entroscope::cli
