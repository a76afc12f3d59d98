// Test harness: an attacker in the middle. A TLS relay on a loopback port
// that presents its own self-signed certificate to clients and forwards the
// decrypted bytes over a second TLS connection to the real server (checking
// nothing), so a client sees the relay's fingerprint instead of the server's.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ipp3d::testing {

class TlsRelay {
 public:
  // Listens on 127.0.0.1 (a free port) and relays each connection to
  // 127.0.0.1:`server_port`. Fails the test when it cannot start.
  explicit TlsRelay(int server_port);
  TlsRelay(const TlsRelay&) = delete;
  TlsRelay& operator=(const TlsRelay&) = delete;
  // Stops accepting, closes every relayed connection and joins the threads.
  ~TlsRelay();

  [[nodiscard]] int port() const { return port_; }
  // The SHA-256 fingerprint of the relay's certificate ("AB:CD:...").
  [[nodiscard]] const std::string& fingerprint() const { return fingerprint_; }

  // OpenSSL state (defined in tls_relay.cpp).
  struct Contexts;

 private:
  // Makes the certificate and contexts, listens and starts accepting; false on failure.
  bool start();
  void accept_loop();
  void relay(int client_fd);

  int server_port_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::string fingerprint_;
  std::unique_ptr<Contexts> contexts_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;                  // guards fds_ and workers_
  std::vector<int> fds_;              // sockets of relayed connections (shut down on stop)
  std::vector<std::thread> workers_;  // one per relayed connection
};

}  // namespace ipp3d::testing
