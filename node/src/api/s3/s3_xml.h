// The XML documents of the S3 API: response bodies written from plain structs
// and request bodies parsed into them. Pure functions, thread-safe. Writers
// produce complete documents (with the XML declaration and the S3 namespace).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/s3/s3_error.h"

namespace garage::s3 {

// Escapes text for XML content or attribute values (& < > " '). Control
// characters that XML 1.0 cannot carry are written as character references,
// as S3 does; clients that care ask for encoding-type=url.
std::string xml_escape(std::string_view s);

struct owner {
  std::string id;
  std::string display_name;
};

// --- ListBuckets ---

struct bucket_entry {
  std::string name;
  uint64_t creation_msec = 0;
};
std::string list_buckets_xml(const owner& o, const std::vector<bucket_entry>& buckets);

// --- ListObjects (v1) and ListObjectsV2 ---

struct list_entry {
  std::string key;
  uint64_t last_modified_msec = 0;
  std::string etag;  // quoted, as in the ETag header
  uint64_t size = 0;
  std::string storage_class = "STANDARD";
};

struct list_objects_result {
  bool v2 = false;
  std::string bucket;
  std::string prefix;
  std::optional<std::string> delimiter;
  uint64_t max_keys = 1000;
  bool url_encoding = false;  // encoding-type=url: keys, prefixes, delimiter, markers encoded
  bool is_truncated = false;
  // v1
  std::string marker;
  std::optional<std::string> next_marker;
  // v2
  std::optional<std::string> continuation_token;
  std::optional<std::string> next_continuation_token;
  std::optional<std::string> start_after;
  // Owner of every entry, written when set (v1 always sets it; v2 with fetch-owner=true).
  std::optional<owner> entry_owner;

  std::vector<list_entry> contents;
  std::vector<std::string> common_prefixes;
};
std::string list_objects_xml(const list_objects_result& r);

// --- DeleteObjects ---

struct delete_request {
  struct object {
    std::string key;
    std::optional<std::string> version_id;
  };
  std::vector<object> objects;
  bool quiet = false;
};
// Parses <Delete><Object><Key/><VersionId/></Object>...<Quiet/></Delete>.
// MalformedXML if the document is not well-formed, not a Delete, has an Object
// without Key, no Object at all, or more than 1000.
s3_result<delete_request> parse_delete_request(std::string_view body);

struct deleted_item {
  std::string key;
  std::optional<std::string> version_id;
  std::optional<std::string> delete_marker_version_id;  // when a delete marker was made
};
struct delete_error_item {
  std::string key;
  std::optional<std::string> version_id;
  s3_error error;
};
// <DeleteResult>; in quiet mode the Deleted items are left out (errors stay).
std::string delete_result_xml(const std::vector<deleted_item>& deleted,
                              const std::vector<delete_error_item>& errors, bool quiet);

// --- Bucket location ---

// <LocationConstraint>region</LocationConstraint>
std::string location_constraint_xml(std::string_view region);

struct create_bucket_configuration {
  std::optional<std::string> location_constraint;
};
// An empty (or all-whitespace) body is an empty configuration. MalformedXML
// if the document is not well-formed or its root is not CreateBucketConfiguration.
s3_result<create_bucket_configuration> parse_create_bucket_configuration(std::string_view body);

// --- Multipart upload ---

std::string initiate_multipart_xml(std::string_view bucket, std::string_view key,
                                   std::string_view upload_id);
// etag quoted, as in the ETag header.
std::string complete_multipart_xml(std::string_view location, std::string_view bucket,
                                   std::string_view key, std::string_view etag);

struct requested_part {
  uint32_t part_number = 0;
  std::string etag;  // without quotes
};
// MalformedXML when not a CompleteMultipartUpload document with at least one
// Part of a PartNumber (1..10000) and an ETag.
s3_result<std::vector<requested_part>> parse_complete_multipart(std::string_view body);

struct listed_part {
  uint32_t part_number = 0;
  uint64_t last_modified_msec = 0;
  std::string etag;  // quoted
  uint64_t size = 0;
  // <Checksum{checksum_element}>checksum</...>, e.g. ("CRC32", base64), when set.
  std::string checksum_element{};
  std::string checksum{};
};
struct list_parts_result {
  std::string bucket;
  std::string key;
  std::string upload_id;
  uint32_t part_number_marker = 0;
  std::optional<uint32_t> next_part_number_marker;
  uint32_t max_parts = 1000;
  bool is_truncated = false;
  owner initiator;
  std::vector<listed_part> parts;
};
std::string list_parts_xml(const list_parts_result& r);

struct listed_upload {
  std::string key;
  std::string upload_id;
  uint64_t initiated_msec = 0;
};
struct list_uploads_result {
  std::string bucket;
  std::string prefix;
  std::string key_marker;
  std::string upload_id_marker;
  std::optional<std::string> next_key_marker;
  std::optional<std::string> next_upload_id_marker;
  uint32_t max_uploads = 1000;
  bool is_truncated = false;
  owner initiator;
  std::vector<listed_upload> uploads;
  std::optional<std::string> delimiter{};
  std::vector<std::string> common_prefixes{};  // with a delimiter, in key order
};
std::string list_uploads_xml(const list_uploads_result& r);

}  // namespace garage::s3
