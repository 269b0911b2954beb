// S3 additional checksums on the wire: which checksum a request announces
// (x-amz-checksum-<alg> with its value, x-amz-trailer naming one that follows
// the body, x-amz-sdk-checksum-algorithm, x-amz-checksum-algorithm and
// x-amz-checksum-type on CreateMultipartUpload), the composite checksum of a
// multipart upload, and the response headers. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/common/http.h"
#include "api/s3/s3_error.h"
#include "model/object.h"
#include "model/version.h"
#include "util/checksum.h"

namespace garage::s3 {

// "x-amz-checksum-crc32", ...
std::string checksum_header(checksum_algorithm a);

// What a request body's checksum headers ask for.
struct checksum_request {
  std::optional<checksum_algorithm> algorithm;  // what to compute over the body
  std::optional<std::string> expected;          // raw value, from an x-amz-checksum-* header
  bool in_trailer = false;                      // the value comes in the aws-chunked trailer
};

// Reads the checksum headers of a request with a body. `trailer` is the
// x-amz-trailer header ("" when absent). InvalidRequest, as AWS: two
// x-amz-checksum-* headers, a value that is not base64 of the right size, a
// trailer that is not a checksum, x-amz-sdk-checksum-algorithm unknown or
// naming another algorithm than the value's, or without any value.
s3_result<checksum_request> parse_checksum_request(const http::header_map& headers,
                                                   std::string_view trailer);

// Checks `got`, the checksum of algorithm `a` computed over a body, against
// what `req` declared: its header value, or the value in `trailers` (decoded
// from the aws-chunked body, names lower-case) when req.in_trailer. BadDigest
// on a mismatch; InvalidRequest when the announced trailer is missing or
// malformed.
s3_result<void> verify_body_checksum(
    const checksum_request& req, checksum_algorithm a, std::string_view got,
    const std::vector<std::pair<std::string, std::string>>& trailers);

// The raw value of a base64 checksum of algorithm `a`; nullopt when malformed.
std::optional<std::string> decode_checksum_value(checksum_algorithm a, std::string_view b64);

// CreateMultipartUpload: x-amz-checksum-algorithm and x-amz-checksum-type
// (COMPOSITE or FULL_OBJECT; CRC64NVME is FULL_OBJECT only and its default,
// the others default to COMPOSITE; FULL_OBJECT needs a CRC). nullopt when no
// algorithm is asked for. InvalidRequest on an unknown or invalid combination.
s3_result<std::optional<model::object_checksum>> parse_upload_checksum(
    const http::header_map& headers);

// The checksum of a completed multipart upload from its parts' raw checksums
// and sizes: COMPOSITE is the checksum of the concatenated part checksums,
// FULL_OBJECT the CRCs combined. nullopt when a part has no checksum of the
// right size.
std::optional<model::object_checksum> multipart_checksum(
    const model::object_checksum& upload, const std::vector<std::string>& part_checksums,
    const std::vector<uint64_t>& part_sizes);

// CompleteMultipartUpload: checks the part checksums its body names against
// the stored ones (InvalidPart), computes the object's checksum from the
// upload's (nullopt: the upload has none, or a part lacks its checksum), and
// checks an x-amz-checksum-* header against it (BadDigest; InvalidRequest
// for another algorithm or a malformed value).
s3_result<std::optional<model::object_checksum>> complete_checksum(
    const http::header_map& headers, std::string_view body,
    const std::optional<model::object_checksum>& upload, const std::vector<model::part_key>& chosen,
    const std::vector<std::string>& part_checksums, const std::vector<uint64_t>& part_sizes);

// The wire value: base64, then "-N" for a composite checksum.
std::string checksum_wire_value(const model::object_checksum& c);
// Sets x-amz-checksum-<alg> and x-amz-checksum-type on a response.
void set_checksum_headers(http::header_map& h, const model::object_checksum& c);

// The per-part checksums a CompleteMultipartUpload body names
// (<Part><ChecksumCRC32>...), by part number, as given (base64). Bodies that
// do not parse give an empty list (parse_complete_multipart reports them).
std::vector<std::pair<uint32_t, std::pair<checksum_algorithm, std::string>>>
complete_part_checksums(std::string_view body);

}  // namespace garage::s3
