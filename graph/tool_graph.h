#pragma once
// The Boost.Graph form of a Graph. Kept out of every other header: only graph/*.cc include
// Boost.Graph, so the rest of the project builds fast.

#include <cstdint>

#include <boost/graph/adjacency_list.hpp>

namespace switchyard::graph {

// The reversed graph (edge v->u for every workflow edge u->v), with each edge carrying the index
// of its workflow edge. Dijkstra from the goal over it gives every node's distance to the goal.
using ReversedGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                          boost::property<boost::edge_index_t, std::uint32_t>>;

class ToolGraph {
 public:
  explicit ToolGraph(std::size_t nodes = 0) : reversed(nodes) {}
  ReversedGraph reversed;
};

}  // namespace switchyard::graph
