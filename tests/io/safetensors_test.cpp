// safetensors reader: decoding, alignment handling, and one clear error per kind of bad file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/error.h"
#include "io/checkpoint.h"
#include "io/dtype.h"
#include "io/safetensors.h"

namespace fs = std::filesystem;
using namespace entroscope;
using namespace entroscope::io;

namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A file image with the given raw JSON header and data bytes.
std::string image(const std::string& header_json, const std::string& data) {
  std::string out(8, '\0');
  std::uint64_t n = header_json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + header_json + data;
}

std::string expect_error(const std::string& file_image) {
  try {
    parse_safetensors(bytes_of(file_image), "x.safetensors");
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind("x.safetensors: ", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one-line message expected: " << msg;
    return msg;
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(Safetensors, ParsesValidHeader) {
  std::string img = image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}})",
                          std::string(8, '\0'));
  auto h = parse_safetensors(bytes_of(img), "x");
  ASSERT_EQ(h.tensors.size(), 1u);
  EXPECT_EQ(h.tensors[0].name, "a");
  EXPECT_EQ(h.tensors[0].file_offset, 8 + h.header_length);
  EXPECT_EQ(h.metadata.at("format"), "pt");
}

TEST(Safetensors, ZeroDimTensorAndEmptyTensor) {
  std::string img = image(
      R"({"s":{"dtype":"F16","shape":[],"data_offsets":[0,2]},"e":{"dtype":"F32","shape":[0,3],"data_offsets":[2,2]}})",
      std::string(2, '\0'));
  auto h = parse_safetensors(bytes_of(img), "x");
  EXPECT_EQ(h.tensors.size(), 2u);
}

TEST(Safetensors, BadInputsGiveClearErrors) {
  const std::string data(16, '\0');
  EXPECT_NE(expect_error("abc").find("truncated"), std::string::npos);
  {  // header length beyond the file
    std::string img = image(R"({})", "");
    img[0] = 100;
    EXPECT_NE(expect_error(img).find("exceeds the file"), std::string::npos);
  }
  EXPECT_NE(expect_error(image(R"({"a": )", data)).find("not valid JSON"), std::string::npos);
  EXPECT_NE(expect_error(image(R"([1,2])", data)).find("not a JSON object"), std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}})", data)).find("unknown dtype 'F8'"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", data)).find("outside the data section"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                               data))
                .find("overlap"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data)).find("span 8 bytes"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}})", data)).find("non-negative"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", data)).find("end 0 < begin 8"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", data)).find("[begin, end]"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                               data))
                .find("appears twice"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})", data))
                .find("overflows"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", data)).find("unknown header field"),
            std::string::npos);
  EXPECT_NE(expect_error(image(R"({"__metadata__":{"k":1}})", data)).find("not a string"), std::string::npos);
}

TEST(Safetensors, F16AndBF16DecodeExactly) {
  EXPECT_EQ(f16_to_f32(0x3C00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xC000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x7BFF), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_TRUE(std::isinf(f16_to_f32(0xFC00)) && f16_to_f32(0xFC00) < 0);
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7E00)));
  EXPECT_EQ(bf16_to_f32(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xC0A0), -5.0f);
  // Every half against its value by definition: (-1)^s 2^(e-15) (1 + m/1024), subnormals
  // 2^-14 m/1024, infinities, and NaNs with their payload in the top mantissa bits.
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const std::uint32_t e = (h >> 10) & 0x1F, m = h & 0x3FF;
    const double sign = (h & 0x8000) ? -1.0 : 1.0;
    const float f = f16_to_f32(static_cast<std::uint16_t>(h));
    std::uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    ASSERT_EQ(bits >> 31, h >> 15) << std::hex << h;
    if (e == 0x1F) {
      ASSERT_EQ(bits & 0x7FFFFFFFu, 0x7F800000u | (m << 13)) << std::hex << h;
    } else {
      const double value = e == 0 ? std::ldexp(static_cast<double>(m), -24) : std::ldexp(1024.0 + m, static_cast<int>(e) - 25);
      ASSERT_EQ(static_cast<double>(f), sign * value) << std::hex << h;
    }
  }
  // Round trip every finite half through f32 and back.
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    float f = f16_to_f32(static_cast<std::uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16(f), h) << std::hex << h;
  }
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00);  // rounds to inf
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7BFF);
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(f32_to_bf16(bf16_to_f32(0x1234)), 0x1234);
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("es_io_test_" + std::to_string(std::random_device{}()));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_bytes(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary).write(s.data(), static_cast<std::streamsize>(s.size()));
}

TEST(Safetensors, WriterRoundTripAndAlignment) {
  std::vector<float> a{1.5f, -2.0f, 3.25f};
  std::vector<std::int64_t> ids{1, 2, 3, 4};
  std::vector<std::uint16_t> h{0x3C00};
  std::string img = serialize_safetensors({{"a", DType::F32, {3}, as_bytes_span(a)},
                                           {"ids", DType::I64, {2, 2}, as_bytes_span(ids)},
                                           {"h", DType::F16, {}, as_bytes_span(h)}},
                                          {{"format", "pt"}});
  auto hdr = parse_safetensors(bytes_of(img), "x");
  for (const auto& t : hdr.tensors) EXPECT_EQ(t.file_offset % dtype_size(t.dtype), 0u) << t.name;
  TempDir dir;
  write_bytes(dir.path() / "t.safetensors", img);
  SafetensorsFile f(dir.path() / "t.safetensors");
  EXPECT_EQ(read_as_f32(f, f.at("a")), a);
  EXPECT_EQ(read_as_i64(f, f.at("ids")), ids);
  EXPECT_EQ(read_as_f32(f, f.at("h")), std::vector<float>{1.0f});
}

TEST(Checkpoint, MisalignedTensorsAreCopiedAlignedOnesMapped) {
  const fs::path models = fs::path(ES_TEST_DATA_DIR) / "models";
  Checkpoint aligned(models / "gpt2-tiny");
  auto t = aligned.load_f32("wte.weight");
  EXPECT_EQ(aligned.load_records().back().residence, Residence::kMapped);
  Checkpoint unaligned(models / "gpt2-tiny-unaligned");
  auto u = unaligned.load_f32("wte.weight");
  EXPECT_EQ(unaligned.load_records().back().residence, Residence::kCopiedMisaligned);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(u.data) % 64, 0u);
  ASSERT_EQ(t.num_elements(), u.num_elements());
  EXPECT_EQ(std::memcmp(t.data, u.data, t.num_elements() * sizeof(float)), 0);
  Checkpoint half(models / "gpt2-tiny-fp16");
  half.load_f32("wte.weight");
  EXPECT_EQ(half.load_records().back().residence, Residence::kConverted);
}

// load_stored (issue 15): 16-bit tensors are handed out as stored, in place at an even file offset
// and copied (still 16-bit, 64-byte aligned) at an odd one; F32 as load_f32; F64 narrowed.
TEST(Checkpoint, SixteenBitTensorsAreHandedOutAsStored) {
  std::vector<std::uint16_t> bf(20000), hf{0x3C00, 0x0001, 0xFBFF};  // bf spans whole pages
  for (std::size_t i = 0; i < bf.size(); ++i) bf[i] = static_cast<std::uint16_t>(0x3F80 + 7 * i);
  std::vector<float> f{1.5f, -2.0f};
  std::vector<double> d{0.25, -8.0};
  const std::string img = serialize_safetensors({{"bf", DType::BF16, {20000}, as_bytes_span(bf)},
                                                 {"hf", DType::F16, {3}, as_bytes_span(hf)},
                                                 {"f", DType::F32, {2}, as_bytes_span(f)},
                                                 {"d", DType::F64, {2}, as_bytes_span(d)}});
  // The same tensors one byte further into the file: the header grows by a space (allowed padding).
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, img.data(), 8);
  std::string odd = img.substr(0, 8 + header_len) + " " + img.substr(8 + header_len);
  ++header_len;
  std::memcpy(odd.data(), &header_len, 8);
  for (const bool shifted : {false, true}) {
    SCOPED_TRACE(shifted ? "odd offsets" : "aligned offsets");
    TempDir dir;
    write_bytes(dir.path() / "model.safetensors", shifted ? odd : img);
    Checkpoint ckpt(dir.path());
    for (const auto& [name, want] : {std::pair{"bf", &bf}, std::pair{"hf", &hf}}) {
      const StoredTensor t = ckpt.load_stored(name);
      EXPECT_EQ(t.dtype, std::string(name) == "bf" ? DType::BF16 : DType::F16);
      ASSERT_EQ(t.bytes(), want->size() * 2);
      EXPECT_EQ(std::memcmp(t.data, want->data(), t.bytes()), 0) << name;
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data) % (shifted ? 64 : 2), 0u) << name;
      EXPECT_EQ(ckpt.load_records().back().residence, shifted ? Residence::kCopiedMisaligned : Residence::kMapped);
      EXPECT_EQ(ckpt.load_records().back().dtype, t.dtype);
    }
    const StoredTensor tf = ckpt.load_stored("f");
    EXPECT_EQ(tf.dtype, DType::F32);
    EXPECT_EQ(std::memcmp(tf.data, f.data(), 8), 0);
    const StoredTensor td = ckpt.load_stored("d");
    EXPECT_EQ(td.dtype, DType::F32);
    EXPECT_EQ(static_cast<const float*>(td.data)[1], -8.0f);
    EXPECT_EQ(ckpt.load_records().back().residence, Residence::kConverted);
    // Releasing pages is advice: the contents read the same afterwards, mapped or copied.
    ckpt.release_mapped_pages("bf");
    EXPECT_EQ(std::memcmp(ckpt.load_stored("bf").data, bf.data(), bf.size() * 2), 0);
  }
}

TEST(Checkpoint, MissingShardAndMissingFilesAreReported) {
  TempDir dir;
  const fs::path src = fs::path(ES_TEST_DATA_DIR) / "models" / "gpt2-tiny-sharded";
  fs::copy_file(src / "model.safetensors.index.json", dir.path() / "model.safetensors.index.json");
  fs::copy_file(src / "model-00001-of-00002.safetensors", dir.path() / "model-00001-of-00002.safetensors");
  try {
    Checkpoint c(dir.path());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model-00002-of-00002.safetensors' is listed in the index"), std::string::npos)
        << e.what();
  }
  TempDir empty;
  write_bytes(empty.path() / "pytorch_model.bin", "x");
  try {
    Checkpoint c(empty.path());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("only pytorch_model.bin"), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, TruncatedFileIsRejected) {
  TempDir dir;
  const fs::path src = fs::path(ES_TEST_DATA_DIR) / "models" / "gpt2-tiny" / "model.safetensors";
  std::ifstream in(src, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  write_bytes(dir.path() / "model.safetensors", all.substr(0, all.size() - 100));
  try {
    Checkpoint c(dir.path());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("outside the data section"), std::string::npos) << e.what();
  }
}

// Deterministic mutation fuzzing of the header parser: every mutant either parses into a header
// whose spans are inside the file and non-overlapping, or throws Error. Never crashes (run under
// ASan/UBSan in the sanitizer build).
TEST(SafetensorsFuzz, MutatedHeadersNeverCrash) {
  const fs::path src = fs::path(ES_TEST_DATA_DIR) / "models" / "neox-tiny-bf16" / "model.safetensors";
  std::ifstream in(src, std::ios::binary);
  std::string seed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(seed[i]);
  std::mt19937_64 rng(12345);
  const char* tokens[] = {"0", "-1", "18446744073709551615", "[", "]", "{", "}", ",", "\"", ":", "F32", "null", "1e99"};
  int parsed = 0, rejected = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string m = seed;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t pos = rng() % std::min<std::size_t>(m.size(), 8 + header_len);
      switch (rng() % 4) {
        case 0: m[pos] = static_cast<char>(rng()); break;
        case 1: m.erase(pos, 1 + rng() % 8); break;
        case 2: m.insert(pos, tokens[rng() % std::size(tokens)]); break;
        case 3: m.resize(rng() % m.size()); break;
      }
      if (m.size() < 9) break;
    }
    try {
      auto h = parse_safetensors(bytes_of(m), "fuzz");
      for (const auto& t : h.tensors) ASSERT_LE(t.file_offset + t.num_bytes(), m.size());
      ++parsed;
    } catch (const Error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_EQ(parsed + rejected, 3000);
}

}  // namespace
