#pragma once
// The Switchyard embedding API: one include for programs that embed the runtime.
//
//   #include <switchyard/switchyard.h>      // find_package(switchyard) + switchyard::switchyard
//
//   namespace api = switchyard::api;
//   auto rt = api::Runtime::open({.journal_path = "runs.db"});
//   auto w = api::Workflow::from_file("support.json");
//   (void)(*rt)->add_tool("lookup", [](const nlohmann::json& ctx) -> api::Result<nlohmann::json> {
//     return nlohmann::json{{"customer", ctx["input"]["customer"]}};
//   });
//   auto run = (*rt)->run(*w, {.input = {{"customer", "ada"}}});
//   if (run.ok()) std::cout << api::to_string(run->status) << " $" << run->spent_usd << "\n";
//
// Everything public is in namespace switchyard::api and declared in these headers, which include
// nothing of Switchyard's internals (only the standard library and nlohmann/json):
//   <switchyard/status.h>    Status, Result<T>, StatusCode, Diagnostic
//   <switchyard/types.h>     Budget, ModelTier, RunSummary, Event, RunInfo, RunQuery, VerifyReport
//   <switchyard/workflow.h>  Workflow: load from a file or a string
//   <switchyard/runtime.h>   Runtime: tools, runs (callback, future, co_await), events, cancel,
//                            journal queries, verify, render, resume
// They live in include/switchyard/ and are installed as they are (<prefix>/include/switchyard/).
// The names of 0.1 (<switchyard/switchyard_runtime.h>, ...) still work for this minor version as
// forwarding headers. Guide: docs/embedding.md.

#include <switchyard/export.h>
#include <switchyard/runtime.h>
#include <switchyard/status.h>
#include <switchyard/types.h>
#include <switchyard/workflow.h>
