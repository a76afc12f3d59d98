#include "signing.hpp"

#include "ipp_client.hpp"

#include <gtest/gtest.h>

#include <array>
#include <ctime>
#include <fstream>

namespace ipp3d::testing {

const trust::SecretKey& test_signer() {
  static const trust::SecretKey key = [] {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(0x5A);
    return trust::SecretKey::from_secret(trust::KeyAlgorithm::kEd25519, seed);
  }();
  return key;
}

void write_test_signer_public_key(const std::filesystem::path& path) {
  if (Status written = trust::write_public_key_file(path, test_signer().public_key()); !written) {
    ADD_FAILURE() << written.error().message;
  }
}

std::string sign_document(const std::string& document, const std::function<void(trust::SignOptions&)>& adjust,
                          const trust::SecretKey* signer) {
  trust::SignOptions options;
  options.document_name = "test.gcode";
  options.created = static_cast<std::int64_t>(std::time(nullptr));
  options.not_after = options.created + 86400;
  if (adjust) adjust(options);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(document.data());
  auto envelope =
      trust::sign_bytes({bytes, document.size()}, signer != nullptr ? *signer : test_signer(), options);
  if (!envelope) {
    ADD_FAILURE() << "signing failed: " << envelope.error().message;
    return {};
  }
  return {envelope->begin(), envelope->end()};
}

std::string signed_torus() { return sign_document(read_file(torus_path())); }

std::optional<trust::PublicKey> printer_public_key(http_t* http, const std::string& printer_uri) {
  IppPtr request = new_printer_request(IPP_OP_GET_PRINTER_ATTRIBUTES, printer_uri);
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", nullptr,
               "ipp3d-printer-public-key");
  IppPtr response = send_request(http, std::move(request));
  const char* text =
      ippGetString(ippFindAttribute(response.get(), "ipp3d-printer-public-key", IPP_TAG_ZERO), 0, nullptr);
  if (text == nullptr) {
    ADD_FAILURE() << "no ipp3d-printer-public-key in Get-Printer-Attributes";
    return std::nullopt;
  }
  auto key = trust::parse_public_key(text, "ipp3d-printer-public-key");
  if (!key) {
    ADD_FAILURE() << key.error().message;
    return std::nullopt;
  }
  return key.value();
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

}  // namespace ipp3d::testing
