// api::Workflow: the loader (graph::load) behind a handle.

#include <set>

#include "runtime/api/internal.h"
#include "runtime/base/workflow_file.h"

namespace switchyard::api {
namespace {

// Scenario blocks are for evaluation (`switchyard eval`), not for embedding programs.
constexpr graph::LoadOptions kLoadOptions{.allow_scenario = false};

Result<Workflow> from_load(graph::LoadResult loaded) {
  if (!loaded.ok()) return load_error(loaded.errors);
  std::vector<Diagnostic> warnings;
  for (const auto& d : loaded.warnings) warnings.push_back(to_api(d));
  return wrap_workflow(std::move(loaded.workflow), std::move(warnings));
}

}  // namespace

Workflow wrap_workflow(std::shared_ptr<const graph::Workflow> model,
                       std::vector<Diagnostic> warnings) {
  auto impl = std::make_shared<Workflow::Impl>();
  impl->warnings = std::move(warnings);
  impl->name = model->name();
  impl->hash = runtime::identify(*model).hash;
  impl->model = std::move(model);
  return internal::Access::workflow(std::move(impl));
}

Workflow internal::Access::workflow(std::shared_ptr<const Workflow::Impl> impl) {
  return Workflow(std::move(impl));
}

Result<Workflow> Workflow::from_file(const std::string& path) {
  return from_load(runtime::load_workflow_file(path, kLoadOptions));
}

Result<Workflow> Workflow::from_json(std::string_view text, std::string_view file_name) {
  return from_load(graph::load(text, file_name, kLoadOptions));
}

Workflow::Workflow(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Workflow::Workflow(const Workflow&) = default;
Workflow::Workflow(Workflow&&) noexcept = default;
Workflow& Workflow::operator=(const Workflow&) = default;
Workflow& Workflow::operator=(Workflow&&) noexcept = default;
Workflow::~Workflow() = default;

const std::string& Workflow::name() const { return impl_->name; }
const std::string& Workflow::hash() const { return impl_->hash; }
const std::vector<Diagnostic>& Workflow::warnings() const { return impl_->warnings; }

std::vector<std::string> Workflow::builtins() const {
  std::set<std::string> names;
  for (const auto& t : impl_->model->tools()) {
    if (const auto* b = std::get_if<graph::BuiltinTool>(&t.spec)) names.insert(b->name);
  }
  return {names.begin(), names.end()};
}

}  // namespace switchyard::api
