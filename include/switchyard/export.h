#pragma once
// SWITCHYARD_API marks the declarations libswitchyard.so exports. The library is built with
// -fvisibility=hidden: everything else in it (the graph, monitors, tools and runtime internals)
// is local to it and cannot clash with, or be reached from, the embedding program.
// SWITCHYARD_HIDDEN marks the members of exported classes that only the library itself calls
// (the private constructors that wrap the insides of a handle): they are not exported.
// Part of the public embedding API (switchyard.h); installed as <switchyard/export.h>.

#if defined(__GNUC__) || defined(__clang__)
#define SWITCHYARD_API __attribute__((visibility("default")))
#define SWITCHYARD_HIDDEN __attribute__((visibility("hidden")))
#else
#define SWITCHYARD_API
#define SWITCHYARD_HIDDEN
#endif

namespace switchyard::api::internal {
// How the library's implementation builds and opens the handles (Workflow, ToolReply,
// EventSubscription). Defined inside the library only; not part of the API.
struct Access;
}  // namespace switchyard::api::internal
