#include "api/s3/s3_xml.h"

#include <cstdio>
#include <pugixml.hpp>

#include "api/common/http.h"
#include "util/encoding.h"

namespace garage::s3 {
namespace {

constexpr std::string_view k_header = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
constexpr std::string_view k_ns = " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";
constexpr size_t k_max_delete_objects = 1000;

// Appends <name>escaped text</name>.
void element(std::string& out, std::string_view name, std::string_view text) {
  out.push_back('<');
  out.append(name).push_back('>');
  out += xml_escape(text);
  out.append("</").append(name).push_back('>');
}

void owner_xml(std::string& out, const owner& o) {
  out += "<Owner>";
  element(out, "ID", o.id);
  element(out, "DisplayName", o.display_name);
  out += "</Owner>";
}

// Multipart listings name the key that started an upload as both.
void initiator_and_owner_xml(std::string& out, const owner& o) {
  out += "<Initiator>";
  element(out, "ID", o.id);
  element(out, "DisplayName", o.display_name);
  out += "</Initiator>";
  owner_xml(out, o);
}

s3_error malformed() { return make_error(s3_errc::malformed_xml); }

// Element name without a namespace prefix.
std::string_view local_name(const pugi::xml_node& n) {
  std::string_view name = n.name();
  size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// Concatenated text and CDATA content of an element, untrimmed.
std::string text_of(const pugi::xml_node& n) {
  std::string out;
  for (auto c : n.children())
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
  return out;
}

// Parses a whole document. A <!DOCTYPE> is refused (no entity games),
// no end-of-line normalisation (keys may hold CR), whitespace-only text kept
// when it is an element's only content (a key may be " ").
s3_result<pugi::xml_node> load(pugi::xml_document& doc, std::string_view body) {
  unsigned options =
      pugi::parse_cdata | pugi::parse_escapes | pugi::parse_ws_pcdata_single | pugi::parse_doctype;
  auto res = doc.load_buffer(body.data(), body.size(), options, pugi::encoding_utf8);
  if (!res) return malformed();
  auto root = doc.document_element();
  if (!root) return malformed();
  // pugixml accepts several top-level elements; XML does not.
  int elements = 0;
  for (auto n : doc.children()) {
    if (n.type() == pugi::node_element) ++elements;
    if (n.type() == pugi::node_doctype) return malformed();
  }
  if (elements != 1) return malformed();
  return root;
}

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          char buf[8];
          std::snprintf(buf, sizeof buf, "&#x%X;", static_cast<unsigned>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::string list_buckets_xml(const owner& o, const std::vector<bucket_entry>& buckets) {
  std::string out(k_header);
  out.append("<ListAllMyBucketsResult").append(k_ns).push_back('>');
  owner_xml(out, o);
  out += "<Buckets>";
  for (const auto& b : buckets) {
    out += "<Bucket>";
    element(out, "Name", b.name);
    element(out, "CreationDate", http::format_iso8601(b.creation_msec));
    out += "</Bucket>";
  }
  out += "</Buckets></ListAllMyBucketsResult>";
  return out;
}

std::string list_objects_xml(const list_objects_result& r) {
  auto enc = [&](std::string_view s) {
    return r.url_encoding ? uri_encode(s, true) : std::string(s);
  };
  std::string out(k_header);
  out.append("<ListBucketResult").append(k_ns).push_back('>');
  element(out, "Name", r.bucket);
  element(out, "Prefix", enc(r.prefix));
  if (!r.v2) {
    element(out, "Marker", enc(r.marker));
    if (r.next_marker) element(out, "NextMarker", enc(*r.next_marker));
  } else {
    if (r.start_after) element(out, "StartAfter", enc(*r.start_after));
    if (r.continuation_token) element(out, "ContinuationToken", *r.continuation_token);
    if (r.next_continuation_token)
      element(out, "NextContinuationToken", *r.next_continuation_token);
    element(out, "KeyCount", std::to_string(r.contents.size() + r.common_prefixes.size()));
  }
  element(out, "MaxKeys", std::to_string(r.max_keys));
  if (r.delimiter) element(out, "Delimiter", enc(*r.delimiter));
  if (r.url_encoding) element(out, "EncodingType", "url");
  element(out, "IsTruncated", r.is_truncated ? "true" : "false");
  for (const auto& e : r.contents) {
    out += "<Contents>";
    element(out, "Key", enc(e.key));
    element(out, "LastModified", http::format_iso8601(e.last_modified_msec));
    element(out, "ETag", e.etag);
    element(out, "Size", std::to_string(e.size));
    if (r.entry_owner) owner_xml(out, *r.entry_owner);
    element(out, "StorageClass", e.storage_class);
    out += "</Contents>";
  }
  for (const auto& p : r.common_prefixes) {
    out += "<CommonPrefixes>";
    element(out, "Prefix", enc(p));
    out += "</CommonPrefixes>";
  }
  out += "</ListBucketResult>";
  return out;
}

s3_result<delete_request> parse_delete_request(std::string_view body) {
  pugi::xml_document doc;
  auto root = load(doc, body);
  if (!root) return std::move(root).error();
  if (local_name(*root) != "Delete") return malformed();
  delete_request req;
  for (auto child : root->children()) {
    if (child.type() != pugi::node_element) continue;
    auto name = local_name(child);
    if (name == "Quiet") {
      std::string v = http::to_lower(trim_ws(text_of(child)));
      if (v != "true" && v != "false") return malformed();
      req.quiet = v == "true";
    } else if (name == "Object") {
      if (req.objects.size() >= k_max_delete_objects) return malformed();
      delete_request::object obj;
      bool has_key = false;
      for (auto f : child.children()) {
        if (f.type() != pugi::node_element) continue;
        if (local_name(f) == "Key") {
          obj.key = text_of(f);
          has_key = true;
        } else if (local_name(f) == "VersionId") {
          obj.version_id = text_of(f);
        }
      }
      if (!has_key) return malformed();
      req.objects.push_back(std::move(obj));
    }
  }
  if (req.objects.empty()) return malformed();
  return req;
}

std::string delete_result_xml(const std::vector<deleted_item>& deleted,
                              const std::vector<delete_error_item>& errors, bool quiet) {
  std::string out(k_header);
  out.append("<DeleteResult").append(k_ns).push_back('>');
  if (!quiet) {
    for (const auto& d : deleted) {
      out += "<Deleted>";
      element(out, "Key", d.key);
      if (d.version_id) element(out, "VersionId", *d.version_id);
      if (d.delete_marker_version_id) {
        element(out, "DeleteMarker", "true");
        element(out, "DeleteMarkerVersionId", *d.delete_marker_version_id);
      }
      out += "</Deleted>";
    }
  }
  for (const auto& e : errors) {
    out += "<Error>";
    element(out, "Key", e.key);
    if (e.version_id) element(out, "VersionId", *e.version_id);
    element(out, "Code", code_name(e.error.code));
    element(out, "Message",
            e.error.message.empty() ? std::string_view(default_message(e.error.code))
                                    : std::string_view(e.error.message));
    out += "</Error>";
  }
  out += "</DeleteResult>";
  return out;
}

std::string location_constraint_xml(std::string_view region) {
  std::string out(k_header);
  out.append("<LocationConstraint").append(k_ns).push_back('>');
  out += xml_escape(region);
  out += "</LocationConstraint>";
  return out;
}

s3_result<create_bucket_configuration> parse_create_bucket_configuration(std::string_view body) {
  create_bucket_configuration cfg;
  if (trim_ws(body).empty()) return cfg;
  pugi::xml_document doc;
  auto root = load(doc, body);
  if (!root) return std::move(root).error();
  if (local_name(*root) != "CreateBucketConfiguration") return malformed();
  for (auto child : root->children()) {
    if (child.type() == pugi::node_element && local_name(child) == "LocationConstraint")
      cfg.location_constraint = std::string(trim_ws(text_of(child)));
  }
  return cfg;
}

std::string initiate_multipart_xml(std::string_view bucket, std::string_view key,
                                   std::string_view upload_id) {
  std::string out(k_header);
  out.append("<InitiateMultipartUploadResult").append(k_ns).push_back('>');
  element(out, "Bucket", bucket);
  element(out, "Key", key);
  element(out, "UploadId", upload_id);
  out += "</InitiateMultipartUploadResult>";
  return out;
}

std::string complete_multipart_xml(std::string_view location, std::string_view bucket,
                                   std::string_view key, std::string_view etag) {
  std::string out(k_header);
  out.append("<CompleteMultipartUploadResult").append(k_ns).push_back('>');
  element(out, "Location", location);
  element(out, "Bucket", bucket);
  element(out, "Key", key);
  element(out, "ETag", etag);
  out += "</CompleteMultipartUploadResult>";
  return out;
}

s3_result<std::vector<requested_part>> parse_complete_multipart(std::string_view body) {
  pugi::xml_document doc;
  auto root = load(doc, body);
  if (!root) return std::move(root).error();
  if (local_name(*root) != "CompleteMultipartUpload") return malformed();
  std::vector<requested_part> parts;
  for (auto child : root->children()) {
    if (child.type() != pugi::node_element) continue;
    if (local_name(child) != "Part") continue;
    requested_part p;
    bool has_number = false, has_etag = false;
    for (auto f : child.children()) {
      if (f.type() != pugi::node_element) continue;
      auto name = local_name(f);
      auto text = text_of(f);
      if (name == "PartNumber") {
        auto t = trim_ws(text);
        if (t.empty() || t.size() > 5) return malformed();
        uint32_t n = 0;
        for (char c : t) {
          if (c < '0' || c > '9') return malformed();
          n = n * 10 + static_cast<uint32_t>(c - '0');
        }
        if (n < 1 || n > 10000) return malformed();
        p.part_number = n;
        has_number = true;
      } else if (name == "ETag") {
        std::string_view e = trim_ws(text);
        if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
        p.etag = std::string(e);
        has_etag = true;
      }
    }
    if (!has_number || !has_etag) return malformed();
    parts.push_back(std::move(p));
  }
  if (parts.empty()) return malformed();
  return parts;
}

std::string list_parts_xml(const list_parts_result& r) {
  std::string out(k_header);
  out.append("<ListPartsResult").append(k_ns).push_back('>');
  element(out, "Bucket", r.bucket);
  element(out, "Key", r.key);
  element(out, "UploadId", r.upload_id);
  initiator_and_owner_xml(out, r.initiator);
  element(out, "StorageClass", "STANDARD");
  element(out, "PartNumberMarker", std::to_string(r.part_number_marker));
  if (r.next_part_number_marker) {
    element(out, "NextPartNumberMarker", std::to_string(*r.next_part_number_marker));
  }
  element(out, "MaxParts", std::to_string(r.max_parts));
  element(out, "IsTruncated", r.is_truncated ? "true" : "false");
  for (const auto& p : r.parts) {
    out += "<Part>";
    element(out, "PartNumber", std::to_string(p.part_number));
    element(out, "LastModified", http::format_iso8601(p.last_modified_msec));
    element(out, "ETag", p.etag);
    element(out, "Size", std::to_string(p.size));
    if (!p.checksum_element.empty()) element(out, "Checksum" + p.checksum_element, p.checksum);
    out += "</Part>";
  }
  out += "</ListPartsResult>";
  return out;
}

std::string list_uploads_xml(const list_uploads_result& r) {
  std::string out(k_header);
  out.append("<ListMultipartUploadsResult").append(k_ns).push_back('>');
  element(out, "Bucket", r.bucket);
  element(out, "KeyMarker", r.key_marker);
  element(out, "UploadIdMarker", r.upload_id_marker);
  if (r.next_key_marker) element(out, "NextKeyMarker", *r.next_key_marker);
  if (r.next_upload_id_marker) element(out, "NextUploadIdMarker", *r.next_upload_id_marker);
  element(out, "Prefix", r.prefix);
  if (r.delimiter) element(out, "Delimiter", *r.delimiter);
  element(out, "MaxUploads", std::to_string(r.max_uploads));
  element(out, "IsTruncated", r.is_truncated ? "true" : "false");
  for (const auto& u : r.uploads) {
    out += "<Upload>";
    element(out, "Key", u.key);
    element(out, "UploadId", u.upload_id);
    initiator_and_owner_xml(out, r.initiator);
    element(out, "StorageClass", "STANDARD");
    element(out, "Initiated", http::format_iso8601(u.initiated_msec));
    out += "</Upload>";
  }
  for (const auto& p : r.common_prefixes) {
    out += "<CommonPrefixes>";
    element(out, "Prefix", p);
    out += "</CommonPrefixes>";
  }
  out += "</ListMultipartUploadsResult>";
  return out;
}

}  // namespace garage::s3
