#pragma once
// Status and Result<T>: expected failures as values.
//
// Switchyard never throws from its own code. A function that can fail in an expected way returns
// a Status (no value) or a Result<T> (a value or a non-OK Status, never both). Both are
// [[nodiscard]]: a failure cannot be dropped silently. Thread-compatible value types.

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace switchyard {

// The few canonical codes. Callers branch on the code; the message is for people.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input from the user: a workflow, a flag, a run input
  kNotFound,            // a named thing does not exist (file, run, tool)
  kFailedPrecondition,  // the system is not in a state where the operation makes sense
  kUnavailable,         // a dependency failed in a way that may be transient
  kDeadlineExceeded,    // a timeout
  kResourceExhausted,   // a budget or a limit was reached
  kCancelled,           // the operation was cancelled by request
  kInternal,            // a broken invariant or an unexpected library error
  kIo,                  // the file system or the journal failed
};

std::string_view to_string(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code>: <message>", or "ok".
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status failed_precondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status internal_error(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status io_error(std::string m) { return {StatusCode::kIo, std::move(m)}; }

// A value of type T or a non-OK Status. Check ok() before value() / operator*.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}        // NOLINT: implicit
  Result(Status status) : data_(std::in_place_index<1>, std::move(status)) {  // NOLINT: implicit
    assert(!std::get<1>(data_).ok() && "Result built from an OK status has no value");
  }

  bool ok() const { return data_.index() == 0; }
  // The error; an OK status when the result holds a value.
  Status status() const { return ok() ? Status() : std::get<1>(data_); }

  // REQUIRES: ok().
  T& value() & {
    assert(ok());
    return std::get<0>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(data_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace switchyard
