// Roles and parameters: the inputs of a layout computation.
//
// A node's role says where it is (zone), how much it may store (capacity in
// bytes, or none for a gateway that only serves requests) and free-form tags.
// The layout parameters are the replication factor and the zone redundancy.
// All types are plain values: copyable, comparable, no thread-safety concerns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/hash.h"
#include "util/result.h"

namespace garage::layout {

// A node is named by its Ed25519 public key (32 raw bytes).
using node_id = hash256;

// The first 16 hex digits of a node id, as explanations and CLIs print it.
std::string short_id(const node_id& id);

struct node_role {
  std::string zone;
  std::optional<uint64_t> capacity;  // bytes; nullopt for a gateway
  std::vector<std::string> tags;

  bool is_gateway() const { return !capacity.has_value(); }
  bool operator==(const node_role&) const = default;

  static node_role storage(std::string zone, uint64_t capacity,
                           std::vector<std::string> tags = {}) {
    return {std::move(zone), capacity, std::move(tags)};
  }
  static node_role gateway(std::string zone, std::vector<std::string> tags = {}) {
    return {std::move(zone), std::nullopt, std::move(tags)};
  }
};

// Errors (invalid_argument): empty zone name; a storage role with capacity 0
// (a node that stores nothing is a gateway: give it no capacity).
result<void> validate(const node_role& role);

// How many distinct zones each partition's replicas must span.
class zone_redundancy {
 public:
  // As many zones as possible: min(replication factor, zones with storage).
  static zone_redundancy maximum() { return zone_redundancy(0); }
  // At least n distinct zones (1 <= n <= replication factor).
  static zone_redundancy at_least(uint32_t n) { return zone_redundancy(n); }
  // "maximum" or a decimal number of zones.
  static result<zone_redundancy> parse(std::string_view text);

  bool is_maximum() const { return at_least_ == 0; }
  uint32_t at_least_zones() const { return at_least_; }  // 0 when maximum
  std::string to_string() const;                         // "maximum" or "at least N"
  bool operator==(const zone_redundancy&) const = default;

 private:
  explicit zone_redundancy(uint32_t n) : at_least_(n) {}
  uint32_t at_least_;
};

constexpr uint32_t max_replication_factor = 7;

struct layout_parameters {
  uint32_t replication_factor = 3;
  zone_redundancy redundancy = zone_redundancy::maximum();
  bool operator==(const layout_parameters&) const = default;
};

// Errors (invalid_argument): replication factor outside 1..7; "at least N"
// zones with N = 0 or N > replication factor.
result<void> validate(const layout_parameters& params);

}  // namespace garage::layout
