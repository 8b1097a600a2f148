#pragma once
// Status and Result<T> of the embedding API: expected failures as values.
//
// No function of the API throws. One that can fail in an expected way returns a Status (no
// value) or a Result<T> (a value or a non-OK Status, never both); both are [[nodiscard]]. A
// Status carries a canonical code to branch on, a message for people and, for load errors, one
// Diagnostic per problem with the file and the RFC 6901 JSON pointer of the offending value.
//
// Usage:
//   api::Result<api::Workflow> w = api::Workflow::from_file("support.json");
//   if (!w.ok()) {
//     for (const auto& d : w.status().diagnostics()) std::cerr << d.to_string() << "\n";
//     return 2;
//   }
//   use(*w);
//
// Thread-compatible value types. Part of the public embedding API (switchyard.h).

#include <switchyard/export.h>

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace switchyard::api {

// The canonical codes (the same as the `switchyard` program's errors).
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input: a workflow, a models file, a run's input, an argument
  kNotFound,            // a named thing does not exist (file, run, tool)
  kFailedPrecondition,  // not in a state where the operation makes sense (resume a finished run)
  kUnavailable,         // a dependency failed in a way that may be transient
  kDeadlineExceeded,    // a timeout
  kResourceExhausted,   // a budget or a limit was reached
  kCancelled,           // cancelled by request
  kInternal,            // a broken invariant or an unexpected library error
  kIo,                  // the file system or the journal failed
};

// "invalid_argument", "not_found", ...
SWITCHYARD_API std::string_view to_string(StatusCode code);

// One problem of a loaded document (a workflow or a models file).
struct Diagnostic {
  std::string file;     // as given to the loader
  std::string pointer;  // RFC 6901 JSON pointer of the offending value; "" for the whole document
  std::string message;  // what is wrong and what was expected
  int line = 0;         // JSON syntax errors only (1-based); 0 otherwise
  int column = 0;
  // "file: /pointer: message" (or "file:line:column: message" for a syntax error).
  SWITCHYARD_API std::string to_string() const;
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  // REQUIRES: code != kOk (an OK status has no message).
  Status(StatusCode code, std::string message, std::vector<Diagnostic> diagnostics = {})
      : code_(code), message_(std::move(message)), diagnostics_(std::move(diagnostics)) {
    assert(code != StatusCode::kOk);
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // For people. For a load error: the first diagnostic's to_string() (and how many more).
  const std::string& message() const { return message_; }
  // Load errors: every problem found, in document order. Empty for other errors.
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  // "<code>: <message>", or "ok".
  std::string to_string() const {
    return ok() ? "ok" : std::string(api::to_string(code_)) + ": " + message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::vector<Diagnostic> diagnostics_;
};

// A value of type T or a non-OK Status. Check ok() before value(), * or ->.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  // REQUIRES: !status.ok().
  Result(Status status) : data_(std::in_place_index<1>, std::move(status)) {  // NOLINT: implicit
    assert(!std::get<1>(data_).ok() && "a Result built from an OK status has no value");
  }

  bool ok() const { return data_.index() == 0; }
  // The error; an OK status when the result holds a value. A reference, valid as long as the
  // Result: `for (const auto& d : r.status().diagnostics())` is safe.
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<1>(data_);
  }

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
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace switchyard::api
