// Result type shared by every ipp3d library: a value or an error that names
// the IPP status, a human-readable reason and the offending attribute or line.
#pragma once

#include <cups/ipp.h>

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace ipp3d {

// An error that is reported to a user: bad input, not a programmer mistake.
// `status` is what an IPP response carries for it, `message` says what is
// wrong in words a user can act on, `attribute` names the offending attribute
// or configuration key (e.g. "materials-col[0].material-temperature"), and
// `line` the 1-based offending line of a file (0 when there is none).
struct Error {
  ipp_status_t status = IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES;
  std::string message;
  std::string attribute;
  long line = 0;

  bool operator==(const Error&) const = default;
};

// Builds an Error for `attribute` with the default status
// client-error-attributes-or-values-not-supported.
inline Error attribute_error(std::string attribute, std::string message) {
  return Error{IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES, std::move(message), std::move(attribute), 0};
}

// Either a value of type T or an error of type E. Accessing the wrong
// alternative is a programmer error and asserts.
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(E error) : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  // True when the result holds a value.
  [[nodiscard]] bool ok() const noexcept { return data_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // The value; requires ok().
  [[nodiscard]] T& value() & {
    assert(ok());
    return std::get<0>(data_);
  }
  [[nodiscard]] const T& value() const& {
    assert(ok());
    return std::get<0>(data_);
  }
  [[nodiscard]] T&& value() && {
    assert(ok());
    return std::get<0>(std::move(data_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The error; requires !ok().
  [[nodiscard]] const E& error() const& {
    assert(!ok());
    return std::get<1>(data_);
  }
  [[nodiscard]] E&& error() && {
    assert(!ok());
    return std::get<1>(std::move(data_));
  }

 private:
  std::variant<T, E> data_;
};

// Success with no value, or an error.
template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  [[nodiscard]] const E& error() const& {
    assert(!ok_);
    return error_;
  }
  [[nodiscard]] E&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  E error_{};
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace ipp3d
