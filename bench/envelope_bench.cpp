// Benchmark of the envelope reader (docs/envelope.md §6, one core): verify
// a signed envelope (mode 0: SHA-256 of the payload, one Ed25519
// verification) and decrypt + verify an encrypted one (mode 1: secretstream
// with 64 KiB chunks, then the same), each carrying a 200 MB G-code payload
// (the shared PLA samples repeated) held in memory or read from a file in
// the page cache. Run: build/bin/envelope_bench (docs/performance.md).
#include "ipp3d/trust/envelope.hpp"
#include "ipp3d/trust/keys.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kPayloadBytes = std::size_t{200} * 1000 * 1000;

Bytes read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The two PLA samples repeated to kPayloadBytes.
const Bytes& payload() {
  static const Bytes kPayload = [] {
    const std::filesystem::path dir = std::filesystem::path(IPP3D_TESTDATA_DIR) / "gcode";
    Bytes unit = read_file(dir / "bunny-prusaslicer-klipper.gcode");
    const Bytes torus = read_file(dir / "torus-curaengine-marlin.gcode");
    unit.insert(unit.end(), torus.begin(), torus.end());
    Bytes out;
    out.reserve(kPayloadBytes + unit.size());
    while (!unit.empty() && out.size() < kPayloadBytes) out.insert(out.end(), unit.begin(), unit.end());
    out.resize(kPayloadBytes);
    return out;
  }();
  return kPayload;
}

const ipp3d::trust::SecretKey& signer() {
  static const auto kKey = ipp3d::trust::SecretKey::generate(ipp3d::trust::KeyAlgorithm::kEd25519);
  return kKey;
}
const ipp3d::trust::SecretKey& printer() {
  static const auto kKey = ipp3d::trust::SecretKey::generate(ipp3d::trust::KeyAlgorithm::kX25519);
  return kKey;
}

// The envelope of payload(): signed only, or encrypted to printer().
const Bytes& envelope(bool encrypted) {
  static const auto make = [](bool encrypt) {
    ipp3d::trust::SignOptions options;
    options.created = static_cast<std::int64_t>(std::time(nullptr));
    options.not_after = options.created + 86400;
    options.document_name = "bench.gcode";
    if (encrypt) options.encrypt_to = printer().public_key();
    return ipp3d::trust::sign_bytes(payload(), signer(), options).value();
  };
  static const Bytes kSigned = make(false);
  static const Bytes kEncrypted = make(true);
  return encrypted ? kEncrypted : kSigned;
}

// An envelope written to a temporary file (removed at exit).
const std::filesystem::path& envelope_file(bool encrypted) {
  static const auto write = [](bool encrypt) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("ipp3d-envelope-bench-" + std::to_string(::getpid()) + (encrypt ? "-1" : "-0"));
    const Bytes& bytes = envelope(encrypt);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path;
  };
  static const std::filesystem::path kSigned = write(false);
  static const std::filesystem::path kEncrypted = write(true);
  static const bool kCleanup = [] {
    std::atexit([] {
      std::filesystem::remove(envelope_file(false));
      std::filesystem::remove(envelope_file(true));
    });
    return true;
  }();
  (void)kCleanup;
  return encrypted ? kEncrypted : kSigned;
}

// open + verify_signature + read_payload; false (reported) on any refusal.
bool read_envelope(benchmark::State& state, ipp3d::trust::ByteSource source, bool encrypted) {
  auto reader = ipp3d::trust::EnvelopeReader::open(std::move(source), encrypted ? &printer() : nullptr);
  if (!reader) {
    state.SkipWithError(reader.error().message.c_str());
    return false;
  }
  if (auto verified = (*reader)->verify_signature(signer().public_key()); !verified) {
    state.SkipWithError(verified.error().message.c_str());
    return false;
  }
  std::uint64_t total = 0;
  auto read = (*reader)->read_payload([&](std::span<const std::uint8_t> bytes) -> ipp3d::Status {
    benchmark::DoNotOptimize(bytes.data());
    total += bytes.size();
    return {};
  });
  if (!read || total != payload().size()) {
    state.SkipWithError(read ? "short payload" : read.error().message.c_str());
    return false;
  }
  return true;
}

// Mode 0 (arg 0) or mode 1 (arg 1), from memory.
void BM_ReadFromMemory(benchmark::State& state) {
  const bool encrypted = state.range(0) == 1;
  const Bytes& bytes = envelope(encrypted);
  for (auto _ : state) {
    if (!read_envelope(state, ipp3d::trust::memory_source(bytes), encrypted)) break;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload().size()));
  state.SetLabel(encrypted ? "decrypt+verify" : "verify");
}
BENCHMARK(BM_ReadFromMemory)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

// The same through read() from a file in the page cache.
void BM_ReadFromFile(benchmark::State& state) {
  const bool encrypted = state.range(0) == 1;
  const std::filesystem::path& path = envelope_file(encrypted);
  for (auto _ : state) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      state.SkipWithError("cannot open the envelope file");
      break;
    }
    const bool ok = read_envelope(state, ipp3d::trust::fd_source(fd), encrypted);
    (void)::close(fd);
    if (!ok) break;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * payload().size()));
  state.SetLabel(encrypted ? "decrypt+verify" : "verify");
}
BENCHMARK(BM_ReadFromFile)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

}  // namespace

BENCHMARK_MAIN();
