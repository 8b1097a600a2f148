#pragma once
// Workflow: a loaded, validated workflow document (docs/workflow-format.md), immutable.
//
// Usage:
//   api::Result<api::Workflow> w = api::Workflow::from_file("support.json");
//   if (!w.ok()) { std::cerr << w.status().message() << "\n"; return 2; }
//   std::cout << w->name() << " needs builtins:";
//   for (const auto& b : w->builtins()) std::cout << " " << b;
//
// Loading reports every problem of the document, each as a Diagnostic with the file and the
// JSON pointer of the offending value, exactly as `switchyard validate` prints them. The
// `scenario` block of evaluation files is not part of the embedding API: it is a warning and
// ignored.
//
// Thread-safety: a Workflow is immutable; its methods may be called from any thread, and one
// Workflow may be used by many runs at once, of one Runtime or several. Ownership: a cheap handle
// (copies share one model); a run in flight keeps its own reference, so a Workflow may be
// destroyed while runs of it go on.
// Part of the public embedding API (switchyard.h).

#include <switchyard/export.h>
#include <switchyard/status.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::api {

class SWITCHYARD_API Workflow {
 public:
  // Reads and loads the workflow file at `path`. Errors: kInvalidArgument with one Diagnostic per
  // problem (file = `path`; a file that cannot be read is one diagnostic with pointer "").
  static Result<Workflow> from_file(const std::string& path);
  // Loads a workflow from its JSON text; `file_name` names it in diagnostics. Errors as
  // from_file's.
  static Result<Workflow> from_json(std::string_view text, std::string_view file_name = "<string>");

  // Copies share the model. A moved-from Workflow may only be assigned to or destroyed.
  Workflow(const Workflow&);
  Workflow(Workflow&&) noexcept;
  Workflow& operator=(const Workflow&);
  Workflow& operator=(Workflow&&) noexcept;
  ~Workflow();

  // The document's `name`. (References returned here are valid while this handle is.)
  const std::string& name() const;
  // Hex SHA-256 of its canonical JSON: what the journal records as the run's workflow_hash.
  const std::string& hash() const;
  // The names of the builtin tools it calls: each must be registered (Runtime::add_tool) before
  // a run of it starts.
  std::vector<std::string> builtins() const;
  // Problems that do not stop it from loading (unknown fields), with file and pointer.
  const std::vector<Diagnostic>& warnings() const;

  struct Impl;  // the loaded model: internal, incomplete outside the library

 private:
  friend struct internal::Access;
  // Made by the loaders above only (not exported).
  SWITCHYARD_HIDDEN explicit Workflow(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;  // null only once moved from
};

}  // namespace switchyard::api
