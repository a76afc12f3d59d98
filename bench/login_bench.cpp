// Password checks (docs/security.md, "Password guessing"): the time a client
// waits for a wrong password, an unknown user name and a locked account must
// be the same (one Argon2id verification each), and a cached credential must
// cost only the cheap state reads (account, lock, address records).
// Run: build/bench/login_bench --benchmark_min_time=2
#include "ipp/credentials.hpp"
#include "state/state_store.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

using ipp3d::server::AccountLoginState;
using ipp3d::server::BasicCredentials;
using ipp3d::server::CredentialVerifier;
using ipp3d::server::Role;
using ipp3d::server::StateStore;

// A state database in a temporary directory with the account "alice".
class BenchStore {
 public:
  BenchStore() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ipp3d-login-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    dir_ = pattern;
    auto opened = StateStore::open(dir_ / "ipp3d.db");
    if (!opened.ok()) std::abort();
    store_ = std::move(opened).value();
    if (!store_->set_password("alice", "alice-password", Role::kUser).ok()) std::abort();
  }
  BenchStore(const BenchStore&) = delete;
  BenchStore& operator=(const BenchStore&) = delete;
  ~BenchStore() {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  StateStore& store() { return *store_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<StateStore> store_;
};

// Limits that never lock or throttle during a benchmark.
ipp3d::config::LoginConfig lenient() {
  ipp3d::config::LoginConfig login;
  login.max_failed_logins = 1000;
  login.max_address_failures = 100000;
  return login;
}

// A different wrong password each time (a repeated one is refused without hashing).
void run_refusals(benchmark::State& state, const std::string& user, bool locked) {
  BenchStore bench;
  CredentialVerifier verifier(bench.store(), lenient());
  int counter = 0;
  for (auto _ : state) {
    if (!locked && ++counter % 900 == 0) {
      state.PauseTiming();
      static_cast<void>(bench.store().save_account_login_state(user, AccountLoginState{}));
      state.ResumeTiming();
    }
    if (locked) {
      static_cast<void>(bench.store().save_account_login_state(
          user, AccountLoginState{0, 1, ipp3d::server::system_time_ms() + 3'600'000}));
    }
    const auto result =
        verifier.verify(BasicCredentials{user, "guess-" + std::to_string(++counter)}, "192.0.2.1");
    benchmark::DoNotOptimize(result.outcome);
  }
}

void BM_WrongPassword(benchmark::State& state) { run_refusals(state, "alice", false); }
void BM_UnknownUser(benchmark::State& state) { run_refusals(state, "mallory", false); }
void BM_LockedAccount(benchmark::State& state) { run_refusals(state, "alice", true); }

// The per-request cost once a credential is verified.
void BM_CachedCredential(benchmark::State& state) {
  BenchStore bench;
  CredentialVerifier verifier(bench.store(), lenient());
  const BasicCredentials alice{"alice", "alice-password"};
  static_cast<void>(verifier.verify(alice, "192.0.2.1"));
  for (auto _ : state) {
    const auto result = verifier.verify(alice, "192.0.2.1");
    benchmark::DoNotOptimize(result.outcome);
  }
}

BENCHMARK(BM_WrongPassword)->Unit(benchmark::kMillisecond)->Iterations(30);
BENCHMARK(BM_UnknownUser)->Unit(benchmark::kMillisecond)->Iterations(30);
BENCHMARK(BM_LockedAccount)->Unit(benchmark::kMillisecond)->Iterations(30);
BENCHMARK(BM_CachedCredential)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
