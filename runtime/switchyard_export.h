#pragma once
// SWITCHYARD_API marks the declarations libswitchyard.so exports. The library is built with
// -fvisibility=hidden: everything else in it (the graph, monitors, tools and runtime internals)
// is local to it and cannot clash with, or be reached from, the embedding program.
// Part of the public embedding API (switchyard.h); installed as <switchyard/switchyard_export.h>.

#if defined(__GNUC__) || defined(__clang__)
#define SWITCHYARD_API __attribute__((visibility("default")))
#else
#define SWITCHYARD_API
#endif
