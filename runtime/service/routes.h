#pragma once
// The service's endpoints as data: the router (Service::Impl::route, routes.cc) dispatches from
// this table, and tests/runtime/service/openapi_test.cc checks docs/openapi.yaml against it.

#include <string>
#include <vector>

namespace switchyard::service {

struct RouteInfo {
  std::string method;  // "GET", "POST"
  std::string path;    // an OpenAPI path template: "/v1/runs/{id}/events"
  bool is_public;      // a probe: answered without a token, rate limit or method check
};

// Every endpoint the service answers, the probes (/healthz, /readyz) first. Thread-safe.
const std::vector<RouteInfo>& route_table();

}  // namespace switchyard::service
