// Benchmark of the server's whole intake of one job (check_document,
// server/intake/document_check.cpp), one core: open the envelope, check its
// claims against a real state database, verify (and for mode 1 decrypt) the
// payload, run the G-code gate on every line and write the verified plaintext
// file — the same single streaming pass the server runs when a document
// arrives. The payload (default 200 MB; IPP3D_BENCH_MB to change) is the
// shared PLA samples repeated, written to and read from files in the temp
// directory, never held in memory, so the process's peak RSS (reported as the
// counter peak_rss_mb) is the intake's own. Run: build/bin/intake_bench
// (docs/performance.md).
#include "ipp3d/config/config.hpp"
#include "ipp3d/gcode/limits.hpp"
#include "ipp3d/trust/envelope.hpp"

#include "intake/document_check.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sys/resource.h>

namespace {

namespace fs = std::filesystem;
using ipp3d::server::DocumentPolicy;
using ipp3d::server::DocumentRequest;

// Payload size in bytes (IPP3D_BENCH_MB, default 200 MB).
std::uint64_t payload_bytes() {
  const char* mb = std::getenv("IPP3D_BENCH_MB");
  return (mb != nullptr ? std::strtoull(mb, nullptr, 10) : 200) * 1000 * 1000;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Everything one run needs: files, keys, database, limits.
struct Fixture {
  fs::path dir;
  ipp3d::trust::SecretKey signer = ipp3d::trust::SecretKey::generate(ipp3d::trust::KeyAlgorithm::kEd25519);
  ipp3d::trust::SecretKey printer = ipp3d::trust::SecretKey::generate(ipp3d::trust::KeyAlgorithm::kX25519);
  std::unique_ptr<ipp3d::server::StateStore> store;
  ipp3d::config::PrinterConfig printer_config = ipp3d::config::default_config().printers.front();
  ipp3d::gcode::Limits limits;
  ipp3d::config::SecurityConfig security;
  std::uint64_t bytes = payload_bytes();

  Fixture() {
    std::string pattern = (fs::temp_directory_path() / "ipp3d-intake-bench-XXXXXX").string();
    dir = ::mkdtemp(pattern.data());
    store = std::move(ipp3d::server::StateStore::open(dir / "ipp3d.db")).value();
    const auto& pub = signer.public_key();
    (void)store->add_trusted_signer(
        {"bench", ipp3d::trust::key_id_hex(pub.id), ipp3d::trust::hex_text(pub.bytes), "", 0, ""});
    printer_config.volume.z.max = 400;  // the samples repeated stay inside one printer
    limits = ipp3d::gcode::limits_for(printer_config);
    security.max_document_size_mb = 1048576;
    write_payload();
    sign(false);
    sign(true);
  }
  ~Fixture() {
    store.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;

  // The PLA samples (bunny, torus) repeated to `bytes`, cut at a line end.
  void write_payload() const {
    const fs::path samples = fs::path(IPP3D_TESTDATA_DIR) / "gcode";
    const std::string unit = read_text(samples / "bunny-prusaslicer-klipper.gcode") +
                             read_text(samples / "torus-curaengine-marlin.gcode");
    std::ofstream out(dir / "payload.gcode", std::ios::binary);
    for (std::uint64_t written = 0; written < bytes; written += unit.size()) out << unit;
  }

  void sign(bool encrypted) const {
    ipp3d::trust::SignOptions options;
    options.created = static_cast<std::int64_t>(std::time(nullptr));
    options.not_after = options.created + 86400;
    options.licence = ipp3d::trust::Licence{"bench", 1000000};  // no nonce: every iteration is accepted
    if (encrypted) options.encrypt_to = printer.public_key();
    std::ofstream out(dir / (encrypted ? "encrypted.ipp3d" : "signed.ipp3d"), std::ios::binary);
    const auto status = ipp3d::trust::sign_file(
        dir / "payload.gcode", signer, options, [&out](std::span<const std::uint8_t> b) -> ipp3d::Status {
          out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
          return {};
        });
    if (!status) std::fprintf(stderr, "signing failed: %s\n", status.error().message.c_str());
  }
};

Fixture& fixture() {
  static Fixture kFixture;
  return kFixture;
}

// Peak resident memory of this process so far, in MB.
double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

void run_intake(benchmark::State& state, bool encrypted) {
  Fixture& f = fixture();
  const fs::path envelope = f.dir / (encrypted ? "encrypted.ipp3d" : "signed.ipp3d");
  const DocumentRequest request{"bench", 1, envelope, true, 1, f.dir / "verified.gcode", {}};
  std::uint64_t payload = 0;
  for (auto _ : state) {
    const DocumentPolicy policy{f.security, f.printer, *f.store, f.limits,
                                static_cast<std::int64_t>(std::time(nullptr))};
    auto checked = ipp3d::server::check_document(request, policy);
    if (!checked) {
      state.SkipWithError(checked.error().message.c_str());
      return;
    }
    payload = checked->size;
    benchmark::DoNotOptimize(checked->facts.layer_count);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(payload) * state.iterations());
  state.counters["peak_rss_mb"] = peak_rss_mb();
}

void BM_IntakeSigned(benchmark::State& state) { run_intake(state, false); }
void BM_IntakeEncrypted(benchmark::State& state) { run_intake(state, true); }

BENCHMARK(BM_IntakeSigned)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);
BENCHMARK(BM_IntakeEncrypted)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

}  // namespace

BENCHMARK_MAIN();
