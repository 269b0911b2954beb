#include "api/s3/checksums.h"

#include <pugixml.hpp>

#include "util/encoding.h"

namespace garage::s3 {

namespace {

constexpr checksum_algorithm kAll[] = {checksum_algorithm::crc32, checksum_algorithm::crc32c,
                                       checksum_algorithm::crc64nvme, checksum_algorithm::sha1,
                                       checksum_algorithm::sha256};

s3_error invalid(std::string message) {
  return make_error(s3_errc::invalid_request, std::move(message));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string_view local_name(const pugi::xml_node& n) {
  std::string_view name = n.name();
  auto colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

}  // namespace

std::string checksum_header(checksum_algorithm a) {
  return "x-amz-checksum-" + http::to_lower(checksum_name(a));
}

std::optional<std::string> decode_checksum_value(checksum_algorithm a, std::string_view b64) {
  auto raw = base64_decode(trim(b64));
  if (!raw || raw->size() != checksum_size(a)) return std::nullopt;
  return raw;
}

s3_result<checksum_request> parse_checksum_request(const http::header_map& headers,
                                                   std::string_view trailer) {
  checksum_request r;
  for (auto a : kAll) {
    auto name = checksum_header(a);
    auto v = headers.get(name);
    if (!v) continue;
    if (r.algorithm) {
      return invalid(
          "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
    }
    auto raw = decode_checksum_value(a, *v);
    if (!raw) return invalid("Value for " + name + " header is invalid.");
    r.algorithm = a;
    r.expected = std::move(*raw);
  }
  trailer = trim(trailer);
  if (!trailer.empty()) {
    std::optional<checksum_algorithm> named;
    for (auto a : kAll) {
      if (http::iequals(trailer, checksum_header(a))) named = a;
    }
    if (!named) return invalid("The value specified in the x-amz-trailer header is not supported");
    if (r.algorithm) {
      return invalid(
          "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
    }
    r.algorithm = named;
    r.in_trailer = true;
  }
  if (auto sdk = headers.get("x-amz-sdk-checksum-algorithm")) {
    auto a = parse_checksum_name(trim(*sdk));
    if (!a) return invalid("Value for x-amz-sdk-checksum-algorithm header is invalid.");
    if (!r.algorithm) {
      return invalid(
          "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or "
          "x-amz-trailer headers were found.");
    }
    if (*a != *r.algorithm) {
      return invalid("Value for x-amz-sdk-checksum-algorithm header is invalid.");
    }
  }
  return r;
}

s3_result<void> verify_body_checksum(
    const checksum_request& req, checksum_algorithm a, std::string_view got,
    const std::vector<std::pair<std::string, std::string>>& trailers) {
  std::optional<std::string> expected = req.expected;
  if (req.in_trailer) {
    std::string name = checksum_header(a);
    const std::string* value = nullptr;
    for (const auto& [n, v] : trailers) {
      if (n == name) value = &v;
    }
    if (!value) return invalid("The trailer " + name + " announced by x-amz-trailer was not sent");
    expected = decode_checksum_value(a, *value);
    if (!expected) return invalid("Value for " + name + " trailing header is invalid.");
  }
  if (expected && *expected != got) {
    return make_error(s3_errc::bad_digest, "The " + http::to_lower(checksum_name(a)) +
                                               " you specified did not match the calculated "
                                               "checksum.");
  }
  return {};
}

s3_result<std::optional<model::object_checksum>> parse_upload_checksum(
    const http::header_map& headers) {
  auto alg_header = headers.get("x-amz-checksum-algorithm");
  auto type_header = headers.get("x-amz-checksum-type");
  if (!alg_header) {
    if (type_header) {
      return invalid(
          "The x-amz-checksum-type header can only be used with the "
          "x-amz-checksum-algorithm header.");
    }
    return std::optional<model::object_checksum>();
  }
  auto a = parse_checksum_name(trim(*alg_header));
  if (!a) return invalid("Checksum algorithm provided is unsupported.");
  model::object_checksum c;
  c.algorithm = *a;
  bool full = *a == checksum_algorithm::crc64nvme;
  if (type_header) {
    auto t = trim(*type_header);
    if (http::iequals(t, "FULL_OBJECT")) {
      full = true;
    } else if (http::iequals(t, "COMPOSITE")) {
      full = false;
    } else {
      return invalid("Value for x-amz-checksum-type header is invalid.");
    }
  }
  if (full && !checksum_is_crc(*a)) {
    return invalid("The FULL_OBJECT checksum type cannot be used with the " +
                   std::string(checksum_name(*a)) + " checksum algorithm.");
  }
  if (!full && *a == checksum_algorithm::crc64nvme) {
    return invalid(
        "The COMPOSITE checksum type cannot be used with the CRC64NVME checksum "
        "algorithm.");
  }
  c.composite = !full;
  return std::optional<model::object_checksum>(std::move(c));
}

std::optional<model::object_checksum> multipart_checksum(
    const model::object_checksum& upload, const std::vector<std::string>& part_checksums,
    const std::vector<uint64_t>& part_sizes) {
  const size_t size = checksum_size(upload.algorithm);
  for (const auto& p : part_checksums) {
    if (p.size() != size) return std::nullopt;
  }
  model::object_checksum out = upload;
  out.part_count = static_cast<uint32_t>(part_checksums.size());
  if (upload.composite) {
    checksum_hasher h(upload.algorithm);
    for (const auto& p : part_checksums) h.update(p);
    out.value = h.finish();
    return out;
  }
  if (part_sizes.size() != part_checksums.size()) return std::nullopt;
  std::string acc = compute_checksum(upload.algorithm, "");
  for (size_t i = 0; i < part_checksums.size(); ++i) {
    acc = checksum_combine(upload.algorithm, acc, part_checksums[i], part_sizes[i]);
  }
  out.value = std::move(acc);
  out.part_count = 0;
  return out;
}

s3_result<std::optional<model::object_checksum>> complete_checksum(
    const http::header_map& headers, std::string_view body,
    const std::optional<model::object_checksum>& upload, const std::vector<model::part_key>& chosen,
    const std::vector<std::string>& part_checksums, const std::vector<uint64_t>& part_sizes) {
  for (const auto& [number, named] : complete_part_checksums(body)) {
    const auto& [alg, b64] = named;
    size_t i = 0;
    while (i < chosen.size() && chosen[i].part_number != number) ++i;
    if (i == chosen.size() || i >= part_checksums.size()) continue;
    if (upload && alg != upload->algorithm) {
      return invalid("The upload was created using a " +
                     http::to_lower(checksum_name(upload->algorithm)) +
                     " checksum. The complete request referenced parts with a " +
                     http::to_lower(checksum_name(alg)) + " checksum.");
    }
    auto raw = decode_checksum_value(alg, b64);
    if (!raw || *raw != part_checksums[i]) {
      return make_error(s3_errc::invalid_part, "The checksum of part " + std::to_string(number) +
                                                   " does not match the uploaded part");
    }
  }
  std::optional<model::object_checksum> out;
  if (upload) out = multipart_checksum(*upload, part_checksums, part_sizes);
  for (auto a : kAll) {
    auto name = checksum_header(a);
    auto v = headers.get(name);
    if (!v) continue;
    if (!upload || upload->algorithm != a) {
      return invalid("The " + name + " header does not match the checksum algorithm of the upload");
    }
    if (!out) continue;  // a part has no checksum to compare with
    auto given = trim(*v);
    std::string wire = checksum_wire_value(*out);
    std::string plain = base64_encode(out->value);
    if (given != wire && given != plain) {
      return make_error(s3_errc::bad_digest, "The " + http::to_lower(checksum_name(a)) +
                                                 " you specified did not match the calculated "
                                                 "checksum.");
    }
  }
  return out;
}

std::string checksum_wire_value(const model::object_checksum& c) {
  std::string v = base64_encode(c.value);
  if (c.composite && c.part_count > 0) v += "-" + std::to_string(c.part_count);
  return v;
}

void set_checksum_headers(http::header_map& h, const model::object_checksum& c) {
  if (c.value.empty()) return;
  h.set(checksum_header(c.algorithm), checksum_wire_value(c));
  h.set("x-amz-checksum-type", c.composite ? "COMPOSITE" : "FULL_OBJECT");
}

std::vector<std::pair<uint32_t, std::pair<checksum_algorithm, std::string>>>
complete_part_checksums(std::string_view body) {
  std::vector<std::pair<uint32_t, std::pair<checksum_algorithm, std::string>>> out;
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return out;
  auto root = doc.document_element();
  for (auto part : root.children()) {
    if (part.type() != pugi::node_element || local_name(part) != "Part") continue;
    uint32_t number = 0;
    std::optional<std::pair<checksum_algorithm, std::string>> sum;
    for (auto f : part.children()) {
      if (f.type() != pugi::node_element) continue;
      auto name = local_name(f);
      if (name == "PartNumber") {
        number = static_cast<uint32_t>(std::strtoul(f.text().get(), nullptr, 10));
      } else if (name.starts_with("Checksum")) {
        if (auto a = parse_checksum_name(name.substr(8))) {
          sum.emplace(*a, std::string(trim(f.text().get())));
        }
      }
    }
    if (sum && number > 0) out.emplace_back(number, std::move(*sum));
  }
  return out;
}

}  // namespace garage::s3
