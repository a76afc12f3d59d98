// Passphrases and the key location of the ipp3d client: IPP3D_PASSPHRASE or
// the terminal without echo (never the command line), and the configuration
// directory (IPP3D_CONFIG_DIR, $XDG_CONFIG_HOME/ipp3d or ~/.config/ipp3d).
#pragma once

#include "ipp3d/result.hpp"
#include "ipp3d/trust/keys.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace ipp3d::client {

// The environment variable scripts and tests set instead of typing a passphrase.
inline constexpr const char* kPassphraseVariable = "IPP3D_PASSPHRASE";
// The same, named after what it unlocks; it wins when both are set.
inline constexpr const char* kKeyPassphraseVariable = "IPP3D_KEY_PASSPHRASE";

// IPP3D_KEY_PASSPHRASE or IPP3D_PASSPHRASE when set, else one line read from the terminal with echo
// off after `prompt`; nullopt when neither is available or reading was
// interrupted. The caller wipes the result (trust::secure_wipe).
std::optional<std::string> read_passphrase(const std::string& prompt);

// One line read from the controlling terminal with echo off after `prompt`
// (a password); nullopt without a terminal. The caller wipes the result.
std::optional<std::string> ask_secret(const std::string& prompt);

// A new passphrase for `key`: IPP3D_PASSPHRASE when set, else asked twice at
// the terminal. Errors: no terminal, the two entries differ, empty.
Result<std::string> read_new_passphrase(const std::filesystem::path& key);

// `error`'s message, with a hint when it is about a missing passphrase.
std::string key_error_text(const Error& error);

// A provider that asks for the passphrase of `key` (read_passphrase).
trust::PassphraseProvider passphrase_for(const std::filesystem::path& key);

// The configuration directory; an error when no variable names one.
Result<std::filesystem::path> config_directory();

// The default key, CONFIG_DIR/key.
Result<std::filesystem::path> default_key_path();

// The Ed25519 signing key of `file` (empty: default_key_path()), asking for
// its passphrase when protected. Errors: no key there (run ipp3d keygen), an
// unreadable or unprotected file, a wrong passphrase, an x25519 key.
Result<trust::SecretKey> read_signing_key(const std::filesystem::path& file);

// Creates the configuration directory (mode 0700) when it is missing.
Status ensure_config_directory();

}  // namespace ipp3d::client
