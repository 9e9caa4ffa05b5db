#pragma once
// Doctor, section "files": every safetensors file's header, data section and per-tensor absolute
// offsets (mod 4 / 16 / 64), alignment for its dtype, gaps and overlaps, and sharded indexes that
// point at missing files. Works on files the loader would reject.
#include <filesystem>

#include "doctor/report.h"

namespace entroscope::doctor {

void check_files(const std::filesystem::path& model_dir, Report& report);

}  // namespace entroscope::doctor
