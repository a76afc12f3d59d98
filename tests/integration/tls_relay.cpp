#include "tls_relay.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ipp3d::testing {

struct TlsRelay::Contexts {
  EVP_PKEY* key = nullptr;
  X509* certificate = nullptr;
  SSL_CTX* as_server = nullptr;  // towards the client: the relay's own certificate
  SSL_CTX* as_client = nullptr;  // towards the real server: verifies nothing
  ~Contexts() {
    SSL_CTX_free(as_server);
    SSL_CTX_free(as_client);
    X509_free(certificate);
    EVP_PKEY_free(key);
  }
};

namespace {

// A self-signed P-256 certificate for CN=attacker, valid for a day.
bool make_certificate(TlsRelay::Contexts& contexts) {
  contexts.key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  contexts.certificate = X509_new();
  if (contexts.key == nullptr || contexts.certificate == nullptr) return false;
  X509* cert = contexts.certificate;
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 4242);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"),
                             -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, contexts.key);
  return X509_sign(cert, contexts.key, EVP_sha256()) > 0;
}

// "AB:CD:..." of the certificate's SHA-256.
std::string fingerprint_of(X509* cert) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  X509_digest(cert, EVP_sha256(), digest.data(), &length);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string text;
  for (unsigned int i = 0; i < length; ++i) {
    if (i > 0) text += ':';
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 0x0F];
  }
  return text;
}

// A TCP socket bound to 127.0.0.1:`port` (0: any free port), listening.
int listen_loopback(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  port = ntohs(address.sin_port);
  return fd;
}

// A TCP connection to 127.0.0.1:`port`, or -1.
int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

// Moves what `from` has decrypted to `to`; false when either side is done.
bool forward(SSL* from, SSL* to) {
  std::array<char, 16384> buffer{};
  const int n = SSL_read(from, buffer.data(), static_cast<int>(buffer.size()));
  if (n <= 0) return SSL_get_error(from, n) == SSL_ERROR_WANT_READ;  // e.g. a session ticket only
  int written = 0;
  while (written < n) {
    const int w = SSL_write(to, buffer.data() + written, n - written);
    if (w <= 0) return false;
    written += w;
  }
  return true;
}

}  // namespace

TlsRelay::TlsRelay(int server_port) : server_port_(server_port), contexts_(std::make_unique<Contexts>()) {
  EXPECT_TRUE(start()) << "the TLS relay cannot start";
}

bool TlsRelay::start() {
  if (!make_certificate(*contexts_)) return false;
  fingerprint_ = fingerprint_of(contexts_->certificate);
  contexts_->as_server = SSL_CTX_new(TLS_server_method());
  contexts_->as_client = SSL_CTX_new(TLS_client_method());
  if (contexts_->as_server == nullptr || contexts_->as_client == nullptr ||
      SSL_CTX_use_certificate(contexts_->as_server, contexts_->certificate) != 1 ||
      SSL_CTX_use_PrivateKey(contexts_->as_server, contexts_->key) != 1) {
    return false;
  }
  SSL_CTX_set_verify(contexts_->as_client, SSL_VERIFY_NONE, nullptr);
  // Records that carry no data (session tickets) must not block a read.
  SSL_CTX_clear_mode(contexts_->as_server, SSL_MODE_AUTO_RETRY);
  SSL_CTX_clear_mode(contexts_->as_client, SSL_MODE_AUTO_RETRY);
  listen_fd_ = listen_loopback(port_);
  if (listen_fd_ < 0) return false;
  acceptor_ = std::thread([this] { accept_loop(); });
  return true;
}

TlsRelay::~TlsRelay() {
  stopping_ = true;
  if (listen_fd_ >= 0) {
    ::shutdown(listen_fd_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listen_fd_);
  }
  std::vector<std::thread> workers;
  {
    const std::lock_guard lock(mutex_);
    for (const int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (auto& worker : workers) worker.join();
}

void TlsRelay::accept_loop() {
  while (!stopping_) {
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    const std::lock_guard lock(mutex_);
    if (stopping_) {
      ::close(client);
      return;
    }
    fds_.push_back(client);
    workers_.emplace_back([this, client] { relay(client); });
  }
}

void TlsRelay::relay(int client_fd) {
  const int server_fd = connect_loopback(server_port_);
  {
    const std::lock_guard lock(mutex_);
    if (server_fd >= 0) fds_.push_back(server_fd);
  }
  SSL* client = SSL_new(contexts_->as_server);
  SSL* server = SSL_new(contexts_->as_client);
  SSL_set_fd(client, client_fd);
  if (server_fd >= 0) SSL_set_fd(server, server_fd);
  bool open = server_fd >= 0 && SSL_accept(client) == 1 && SSL_connect(server) == 1;
  while (open && !stopping_) {
    if (SSL_pending(client) > 0) {
      open = forward(client, server);
      continue;
    }
    if (SSL_pending(server) > 0) {
      open = forward(server, client);
      continue;
    }
    std::array<pollfd, 2> fds{{{client_fd, POLLIN, 0}, {server_fd, POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), 1000) < 0) break;
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) open = forward(client, server);
    if (open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) open = forward(server, client);
  }
  SSL_free(client);
  SSL_free(server);
  const std::lock_guard lock(mutex_);
  std::erase(fds_, client_fd);
  std::erase(fds_, server_fd);
  ::close(client_fd);
  if (server_fd >= 0) ::close(server_fd);
}

}  // namespace ipp3d::testing
