#include "layout/codec.h"

#include <utility>

#include "util/codec.h"

// Format 1, all integers as util/codec.h writes them:
//   history  = u8 1, varint n, n * version-body, trackers, staging-body
//   version  = u8 1, version-body
//   staging  = u8 1, staging-body
//   version-body = u64 number, params, varint n, n * (id, role),
//                  varint n, n * id (storage nodes), u64 partition size,
//                  varint n, n * varint (assignment indices)
//   params   = u8 replication factor, u8 zone redundancy (0 = maximum)
//   role     = bytes zone, bool has capacity, [u64 capacity], varint n, n * bytes tag
//   trackers = 3 * (varint n, n * (id, u64))        ack, sync, sync_ack
//   staging-body = u64 stamp, bool has params, [params],
//                  varint n, n * (id, bool has role, [role])
//   id       = 32 raw bytes

namespace garage::layout {

namespace {

constexpr uint8_t format_version = 1;
// Bounds on counts read from the wire, so that a hostile length cannot make
// the decoder allocate without limit.
constexpr uint64_t max_items = 1u << 20;

void put_id(encoder& e, const node_id& id) { e.raw(id.view()); }

node_id get_id(decoder& d) {
  std::string_view raw = d.raw(32);
  return raw.size() == 32 ? hash256::from_raw(raw) : node_id{};
}

void put_params(encoder& e, const layout_parameters& p) {
  e.u8(static_cast<uint8_t>(p.replication_factor));
  e.u8(static_cast<uint8_t>(p.redundancy.at_least_zones()));
}

layout_parameters get_params(decoder& d) {
  layout_parameters p;
  p.replication_factor = d.u8();
  uint8_t zr = d.u8();
  p.redundancy = zr == 0 ? zone_redundancy::maximum() : zone_redundancy::at_least(zr);
  return p;
}

void put_role(encoder& e, const node_role& r) {
  e.bytes(r.zone);
  e.boolean(r.capacity.has_value());
  if (r.capacity) e.u64be(*r.capacity);
  e.varint(r.tags.size());
  for (const auto& t : r.tags) e.bytes(t);
}

node_role get_role(decoder& d) {
  node_role r;
  r.zone = d.bytes();
  if (d.boolean()) r.capacity = d.u64be();
  uint64_t n = d.varint();
  if (n > max_items) d.fail();
  for (uint64_t i = 0; i < n && !d.failed(); ++i) r.tags.push_back(d.bytes());
  return r;
}

uint64_t get_count(decoder& d) {
  uint64_t n = d.varint();
  if (n > max_items) {
    d.fail();
    return 0;
  }
  return n;
}

void put_version_body(encoder& e, const layout_version& v) {
  e.u64be(v.version());
  put_params(e, v.parameters());
  e.varint(v.roles().size());
  for (const auto& [id, role] : v.roles()) {
    put_id(e, id);
    put_role(e, role);
  }
  e.varint(v.storage_nodes().size());
  for (const auto& id : v.storage_nodes()) put_id(e, id);
  e.u64be(v.partition_size());
  e.varint(v.raw_assignment().size());
  for (uint16_t i : v.raw_assignment()) e.varint(i);
}

result<layout_version> get_version_body(decoder& d) {
  uint64_t number = d.u64be();
  layout_parameters params = get_params(d);
  std::map<node_id, node_role> roles;
  for (uint64_t i = 0, n = get_count(d); i < n && !d.failed(); ++i) {
    node_id id = get_id(d);
    roles[id] = get_role(d);
  }
  std::vector<node_id> storage;
  for (uint64_t i = 0, n = get_count(d); i < n && !d.failed(); ++i) storage.push_back(get_id(d));
  uint64_t size = d.u64be();
  std::vector<uint16_t> assignment;
  for (uint64_t i = 0, n = get_count(d); i < n && !d.failed(); ++i) {
    uint64_t index = d.varint();
    if (index > 65535) d.fail();
    assignment.push_back(static_cast<uint16_t>(index));
  }
  if (d.failed()) return error(errc::corrupted, "layout version: truncated or malformed");
  return layout_version::from_parts(number, params, std::move(roles), std::move(storage), size,
                                    std::move(assignment));
}

void put_staging_body(encoder& e, const layout_staging& s) {
  e.u64be(s.stamp());
  e.boolean(s.parameters().has_value());
  if (s.parameters()) put_params(e, *s.parameters());
  e.varint(s.roles().size());
  for (const auto& [id, role] : s.roles()) {
    put_id(e, id);
    e.boolean(role.has_value());
    if (role) put_role(e, *role);
  }
}

result<layout_staging> get_staging_body(decoder& d) {
  uint64_t stamp = d.u64be();
  std::optional<layout_parameters> params;
  if (d.boolean()) {
    params = get_params(d);
    if (!validate(*params)) d.fail();
  }
  std::map<node_id, std::optional<node_role>> roles;
  for (uint64_t i = 0, n = get_count(d); i < n && !d.failed(); ++i) {
    node_id id = get_id(d);
    std::optional<node_role> role;
    if (d.boolean()) role = get_role(d);
    roles[id] = std::move(role);
  }
  if (d.failed()) return error(errc::corrupted, "layout staging: truncated or malformed");
  return layout_staging::from_parts(std::move(roles), params, stamp);
}

result<void> check_format(decoder& d, const char* what) {
  uint8_t f = d.u8();
  if (d.failed()) return error(errc::corrupted, std::string(what) + ": empty input");
  if (f != format_version)
    return error(f > format_version ? errc::not_implemented : errc::corrupted,
                 std::string(what) + ": unknown format version " + std::to_string(f));
  return ok();
}

result<void> check_end(const decoder& d, const char* what) {
  if (!d.complete())
    return error(errc::corrupted, std::string(what) + ": truncated, malformed or trailing bytes");
  return ok();
}

}  // namespace

std::string encode_layout_version(const layout_version& v) {
  encoder e;
  e.u8(format_version);
  put_version_body(e, v);
  return e.take();
}

result<layout_version> decode_layout_version(std::string_view bytes) {
  decoder d(bytes);
  GARAGE_TRY(check_format(d, "layout version"));
  GARAGE_ASSIGN_OR_RETURN(layout_version v, get_version_body(d));
  GARAGE_TRY(check_end(d, "layout version"));
  return v;
}

std::string encode_layout_staging(const layout_staging& s) {
  encoder e;
  e.u8(format_version);
  put_staging_body(e, s);
  return e.take();
}

result<layout_staging> decode_layout_staging(std::string_view bytes) {
  decoder d(bytes);
  GARAGE_TRY(check_format(d, "layout staging"));
  GARAGE_ASSIGN_OR_RETURN(layout_staging s, get_staging_body(d));
  GARAGE_TRY(check_end(d, "layout staging"));
  return s;
}

std::string encode_layout_history(const layout_history& h) {
  encoder e;
  e.u8(format_version);
  e.varint(h.versions().size());
  for (const auto& v : h.versions()) put_version_body(e, v);
  for (const auto* tracker : {&h.trackers().ack, &h.trackers().sync, &h.trackers().sync_ack}) {
    e.varint(tracker->size());
    for (const auto& [id, value] : *tracker) {
      put_id(e, id);
      e.u64be(value);
    }
  }
  put_staging_body(e, h.staging());
  return e.take();
}

result<layout_history> decode_layout_history(std::string_view bytes) {
  decoder d(bytes);
  GARAGE_TRY(check_format(d, "layout history"));
  std::vector<layout_version> versions;
  for (uint64_t i = 0, n = get_count(d); i < n && !d.failed(); ++i) {
    GARAGE_ASSIGN_OR_RETURN(layout_version v, get_version_body(d));
    versions.push_back(std::move(v));
  }
  update_trackers trackers;
  for (auto* tracker : {&trackers.ack, &trackers.sync, &trackers.sync_ack}) {
    for (uint64_t i = 0, n = get_count(d); i < n && !d.failed(); ++i) {
      node_id id = get_id(d);
      (*tracker)[id] = d.u64be();
    }
  }
  GARAGE_ASSIGN_OR_RETURN(layout_staging staging, get_staging_body(d));
  GARAGE_TRY(check_end(d, "layout history"));
  return layout_history::from_parts(std::move(versions), std::move(trackers), std::move(staging));
}

}  // namespace garage::layout
