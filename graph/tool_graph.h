#pragma once
// The Boost.Graph form of a Graph. Kept out of every other header: only graph/*.cc include
// Boost.Graph, so the rest of the project builds fast.

#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <cstdint>
#include <vector>

namespace switchyard::graph {

// The reversed graph (edge v->u for every workflow edge u->v) in compressed sparse row form:
// immutable, built once, edges contiguous in memory (Dijkstra over 40,000 edges touches no
// per-edge heap allocation). Dijkstra from the goal over it gives every node's distance to the
// goal at once.
using ReversedGraph = boost::compressed_sparse_row_graph<boost::directedS>;

class ToolGraph {
 public:
  // REQUIRES: every edge's endpoints < nodes.
  ToolGraph(std::size_t nodes, const std::vector<std::pair<std::uint32_t, std::uint32_t>>& edges);

  ReversedGraph reversed;
  // CSR edge index -> workflow edge index, and back.
  std::vector<std::uint32_t> workflow_edge;
  std::vector<std::uint32_t> csr_edge;
};

}  // namespace switchyard::graph
