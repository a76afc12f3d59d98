// `ipp3d pair`: the code on this side, the code the user reads on the
// printer's page typed in, the operator's decision polled, then the pin.
#include "pair_command.hpp"

#include "ipp3d/client/pairing.hpp"
#include "ipp3d/trust/pairing.hpp"

#include "passphrase.hpp"
#include "remote.hpp"

#include <array>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <poll.h>
#include <unistd.h>

namespace ipp3d::client {
namespace {

using Clock = std::chrono::steady_clock;

// How often the printer is asked for its decision.
constexpr std::chrono::milliseconds kPollInterval{1000};

// Reads standard input line by line without blocking longer than asked.
class LineReader {
 public:
  // A complete line when one arrives within `timeout`; "" with `ended` set at
  // end of input; nullopt when nothing complete arrived.
  std::optional<std::string> next(std::chrono::milliseconds timeout) {
    if (auto line = take_line()) return line;
    pollfd input{STDIN_FILENO, POLLIN, 0};
    if (::poll(&input, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    std::array<char, 256> buffer{};
    const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    if (n <= 0) {
      ended_ = true;
      std::string rest;
      rest.swap(pending_);
      return rest;
    }
    pending_.append(buffer.data(), static_cast<std::size_t>(n));
    return take_line();
  }
  [[nodiscard]] bool ended() const { return ended_; }

 private:
  std::optional<std::string> take_line() {
    const auto end = pending_.find('\n');
    if (end == std::string::npos) return std::nullopt;
    std::string line = pending_.substr(0, end);
    pending_.erase(0, end + 1);
    return line;
  }
  std::string pending_;
  bool ended_ = false;
};

// The environment's or the login's user name.
std::string default_account() {
  if (const char* user = std::getenv("IPP3D_USER"); user != nullptr && *user != '\0') return user;
  return cupsUser();
}

// ACCOUNT@HOSTNAME, keeping only the characters a signer name allows.
std::string default_name(const std::string& account) {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  std::string name = account + "@" + host.data();
  std::string kept;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '@' || c == '-';
    if (ok && kept.size() < 64) kept += c;
  }
  return kept;
}

// https://HOST:PORT/ipp3d/pairing for the printer's URI.
std::string page_url(const std::string& uri) {
  std::array<char, 32> scheme{};
  std::array<char, 256> userinfo{};
  std::array<char, 256> host{};
  std::array<char, 1024> resource{};
  int port = 0;
  httpSeparateURI(HTTP_URI_CODING_ALL, uri.c_str(), scheme.data(), scheme.size(), userinfo.data(),
                  userinfo.size(), host.data(), host.size(), &port, resource.data(), resource.size());
  return "https://" + std::string(host.data()) + ":" + std::to_string(port) + "/ipp3d/pairing";
}

// Tells the user what to compare and how to confirm.
void show_code(const Printer& printer, const trust::SecretKey& key, const PairOptions& o,
               const Pairing& pairing) {
  std::cout << "Pairing request for key " << trust::key_id_hex(key.id()) << " as \"" << o.name
            << "\" (account " << o.account << ").\nPrinter certificate SHA-256: " << printer.fingerprint()
            << "\n\n    Pairing code:  " << trust::grouped_pairing_code(pairing.code())
            << "\n\nAsk the printer's operator to open " << page_url(o.uri)
            << " and to approve the request only if it shows this same code.\nThen type the code the "
               "printer's page shows, to confirm it here (an empty line cancels). The request expires in "
            << pairing.lifetime().count() / 60 << " min " << pairing.lifetime().count() % 60 << " s.\n"
            << "Code shown by the printer: " << std::flush;
}

// Ends the request on the printer and reports `why`.
int give_up(Pairing& pairing, const std::string& reason, const std::string& message, int code) {
  static_cast<void>(pairing.cancel(reason));
  std::cerr << "\nipp3d pair: " << message << "\n";
  return code;
}

// The wait for both confirmations: the user's typed code and the operator's
// approval. Returns the exit status; pins only with both.
int await_decision(Printer& printer, Pairing& pairing) {
  LineReader input;
  bool confirmed = false;
  bool told_approved = false;
  const auto deadline = Clock::now() + pairing.lifetime() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    if (!confirmed && !input.ended()) {
      if (const auto line = input.next(kPollInterval)) {
        if (line->find_first_not_of(" \t\r") == std::string::npos) {
          return give_up(pairing, "canceled by the user", "canceled; nothing was pinned", kExitRefused);
        }
        if (!pairing_codes_match(*line, pairing.code())) {
          return give_up(pairing, "the codes differ on the client",
                         "the printer's code differs from this one (" +
                             trust::grouped_pairing_code(pairing.code()) +
                             "): someone may be between you and the printer. Nothing was pinned; the request "
                             "is canceled.",
                         kExitTrust);
        }
        confirmed = true;
        std::cout << "Codes match. Waiting for the operator's approval ..." << std::endl;
      }
    } else {
      ::usleep(static_cast<useconds_t>(std::chrono::microseconds(kPollInterval).count()));
    }
    auto status = pairing.status();
    if (!status) return report("pair", status.error());
    switch (status->state) {
      case PairingState::kApproved:
        if (!confirmed) {
          if (input.ended()) {
            std::cerr
                << "\nipp3d pair: the operator approved, but no code was confirmed here (standard input "
                   "ended); nothing was pinned\n";
            return kExitRefused;
          }
          if (!told_approved)
            std::cout << "\n(The operator approved.) Code shown by the printer: " << std::flush;
          told_approved = true;
          continue;
        }
        if (Status pinned = printer.pin_certificate(); !pinned) return report("pair", pinned.error());
        std::cout << "Paired: the printer trusts your key (" << status->message
                  << ") and its certificate is pinned.\n";
        return kExitOk;
      case PairingState::kPending:
      case PairingState::kAwaitingReveal:
        if (input.ended() && !confirmed) {
          return give_up(pairing, "no code confirmed on the client",
                         "standard input ended before the code was confirmed; nothing was pinned",
                         kExitRefused);
        }
        continue;
      case PairingState::kRejected:
      case PairingState::kFailed:
      case PairingState::kExpired:
        std::cerr << "\nipp3d pair: the request "
                  << (status->state == PairingState::kRejected  ? "was rejected"
                      : status->state == PairingState::kExpired ? "expired"
                                                                : "failed")
                  << (status->message.empty() ? "" : " (" + status->message + ")")
                  << "; nothing was pinned\n";
        return kExitRefused;
    }
  }
  return give_up(pairing, "timed out on the client", "no decision in time; nothing was pinned", kExitRefused);
}

}  // namespace

CLI::App* add_pair_command(CLI::App& app, PairOptions& options) {
  CLI::App* pair = app.add_subcommand(
      "pair",
      "ask a printer to trust your signing key and pin its certificate, after comparing a 6-digit code");
  pair->add_option("uri", options.uri, "the printer: ipps://HOST:PORT/ipp/print/NAME")->required();
  pair->add_option("--name", options.name, "signer name on the printer (default ACCOUNT@HOSTNAME)");
  pair->add_option("--account", options.account,
                   "the account the key is for (default IPP3D_USER or your login)");
  pair->add_option("--key", options.key,
                   "signing key (default: $IPP3D_CONFIG_DIR/key, else ~/.config/ipp3d/key)");
  return pair;
}

int run_pair(const PairOptions& options) {
  PairOptions o = options;
  if (o.account.empty()) o.account = default_account();
  if (o.name.empty()) o.name = default_name(o.account);
  auto key = read_signing_key(o.key);
  if (!key) {
    std::cerr << "ipp3d pair: " << key.error().message << "\n";
    return kExitUsage;
  }
  OpenOptions open;
  open.unverified = true;
  open.user_name = o.account;
  auto printer = Printer::open(o.uri, open);
  if (!printer) return report("pair", printer.error());
  if (const auto pinned = printer->pinned_fingerprint(); pinned && *pinned != printer->fingerprint()) {
    std::cerr << "ipp3d pair: note: the printer presents another certificate than the one pinned (pinned "
              << *pinned << "); it is pinned only if the codes match.\n";
  }
  auto pairing = Pairing::start(*printer, key->public_key(), {o.name, o.account});
  if (!pairing) return report("pair", pairing.error());
  show_code(*printer, *key, o, *pairing);
  return await_decision(*printer, *pairing);
}

}  // namespace ipp3d::client
