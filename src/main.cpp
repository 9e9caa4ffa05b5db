#include "cli/app.h"

int main(int argc, char** argv) { return entroscope::cli::run_main(argc, argv); }
