#include "runtime/base/workflow_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace switchyard::runtime {

Result<std::string> read_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return not_found(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) return io_error(path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return io_error(path + ": read failed: " + std::strerror(errno));
  return buffer.str();
}

nlohmann::json diagnostic_json(const graph::Diagnostic& d) {
  nlohmann::json j = {{"file", d.file}, {"pointer", d.pointer}, {"message", d.message}};
  if (d.line > 0) {
    j["line"] = d.line;
    j["column"] = d.column;
  }
  return j;
}

graph::LoadResult load_workflow_file(const std::string& path, const graph::LoadOptions& options) {
  auto text = read_file(path);
  if (!text.ok()) {
    graph::LoadResult out;
    graph::Diagnostic d;
    d.file = path;
    d.message = text.status().message();
    out.errors.push_back(std::move(d));
    return out;
  }
  return graph::load(*text, path, options);
}

}  // namespace switchyard::runtime
