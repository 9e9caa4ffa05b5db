#pragma once
// Each subcommand lives in its own cmd_*.cpp and registers itself on the root app here.
// A command's callback throws entroscope::Error on failure; app.cpp turns that into exit code 1.
#include <CLI/CLI.hpp>

#include <string>
#include <string_view>

#include "experiment/experiment_runner.h"
#include "kernels/device.h"

namespace entroscope::cli {

void add_forward_command(CLI::App& app);   // cmd_forward.cpp
void add_info_command(CLI::App& app);      // cmd_info.cpp
void add_tokenize_command(CLI::App& app);  // cmd_tokenize.cpp
void add_doctor_command(CLI::App& app);    // cmd_doctor.cpp
void add_run_command(CLI::App& app);       // cmd_run.cpp
void add_hub_commands(CLI::App& app);      // cmd_hub.cpp: pull, ls, cache verify
void add_synth_command(CLI::App& app);     // cmd_synth.cpp
void add_bench_command(CLI::App& app);     // cmd_bench.cpp
void add_score_command(CLI::App& app);     // cmd_score.cpp
void add_report_command(CLI::App& app);    // cmd_report.cpp
void add_merge_command(CLI::App& app);     // cmd_merge.cpp
void add_plan_command(CLI::App& app);      // cmd_plan.cpp

// run and merge: the summary table and the files written on stdout; fails (exit 1) naming the
// models that failed. In cmd_run.cpp.
void print_experiment_outcome(const experiment::ExperimentOutcome& outcome, const experiment::RunSettings& settings);

// --progress auto|bar|lines|none (auto: a bar on a terminal, lines otherwise). In cmd_run.cpp.
experiment::ProgressStyle progress_style_option(const std::string& name);

// Thrown by a command that has printed its output and must exit with a given status
// (e.g. doctor: 1 when it found a problem).
struct ExitCode {
  int code;
};

// Shared option: --threads N (0 = all cores): the kernels' thread pool (the BLAS stays single-threaded).
void apply_thread_count(int threads);

// Shared option: --device cpu|cuda (cuda: the optional CUDA backend, docs/gpu.md).
void add_device_option(CLI::App* cmd, std::string& device);
// The device the option names; for cuda, checks here that the build and the machine have one.
kernels::Device chosen_device(const std::string& device, std::string_view command);

}  // namespace entroscope::cli
