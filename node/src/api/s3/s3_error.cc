#include "api/s3/s3_error.h"

#include "api/s3/s3_xml.h"

namespace garage::s3 {
namespace {

struct code_info {
  const char* name;
  unsigned status;
  const char* message;
};

// Indexed by s3_errc; statuses and messages as AWS documents them
// (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
constexpr code_info k_codes[] = {
    {"AccessDenied", 403, "Access Denied"},
    {"AccessForbidden", 403,
     "CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
     "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers "
     "are not whitelisted by the resource's CORS spec."},
    {"AuthorizationHeaderMalformed", 400, "The authorization header is malformed."},
    {"AuthorizationQueryParametersError", 400,
     "Error parsing the X-Amz-Credential parameter or another authorization query parameter."},
    {"BadDigest", 400, "The Content-MD5 you specified did not match what we received."},
    {"BucketAlreadyExists", 409,
     "The requested bucket name is not available. The bucket namespace is shared by all users "
     "of the system. Please select a different name and try again."},
    {"BucketAlreadyOwnedByYou", 409,
     "Your previous request to create the named bucket succeeded and you already own it."},
    {"BucketNotEmpty", 409, "The bucket you tried to delete is not empty."},
    {"EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed object size."},
    {"EntityTooSmall", 400,
     "Your proposed upload is smaller than the minimum allowed object size."},
    {"IncompleteBody", 400,
     "You did not provide the number of bytes specified by the Content-Length HTTP header."},
    {"InternalError", 500, "We encountered an internal error. Please try again."},
    {"InvalidAccessKeyId", 403,
     "The AWS access key Id you provided does not exist in our records."},
    {"InvalidArgument", 400, "Invalid Argument"},
    {"InvalidBucketName", 400, "The specified bucket is not valid."},
    {"InvalidDigest", 400, "The Content-MD5 you specified is not valid."},
    {"InvalidEncryptionAlgorithmError", 400,
     "The encryption request you specified is not valid. The valid value is AES256."},
    {"InvalidPart", 400,
     "One or more of the specified parts could not be found. The part might not have been "
     "uploaded, or the specified entity tag might not have matched the part's entity tag."},
    {"InvalidPartNumber", 416, "The requested partnumber is not satisfiable"},
    {"InvalidPartOrder", 400,
     "The list of parts was not in ascending order. Parts must be ordered by part number."},
    {"InvalidRange", 416, "The requested range is not satisfiable"},
    {"InvalidRequest", 400, "Invalid Request"},
    {"InvalidStorageClass", 400, "The storage class you specified is not valid."},
    {"InvalidTag", 400, "The tag provided was not a valid tag."},
    {"InvalidURI", 400, "Couldn't parse the specified URI."},
    {"KeyTooLongError", 400, "Your key is too long."},
    {"MalformedXML", 400,
     "The XML you provided was not well-formed or did not validate against our published "
     "schema."},
    {"MalformedPOSTRequest", 400,
     "The body of your POST request is not well-formed multipart/form-data."},
    {"MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size."},
    {"MethodNotAllowed", 405, "The specified method is not allowed against this resource."},
    {"MissingContentLength", 411, "You must provide the Content-Length HTTP header."},
    {"NoSuchBucket", 404, "The specified bucket does not exist."},
    {"NoSuchKey", 404, "The specified key does not exist."},
    {"NoSuchUpload", 404,
     "The specified multipart upload does not exist. The upload ID might be invalid, or the "
     "multipart upload might have been aborted or completed."},
    {"NoSuchCORSConfiguration", 404, "The CORS configuration does not exist"},
    {"NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist"},
    {"NoSuchWebsiteConfiguration", 404,
     "The specified bucket does not have a website configuration"},
    {"NoSuchBucketPolicy", 404, "The bucket policy does not exist"},
    {"NoSuchTagSet", 404, "The TagSet does not exist"},
    {"NotImplemented", 501, "A header you provided implies functionality that is not implemented."},
    {"OperationAborted", 409,
     "A conflicting conditional operation is currently in progress against this resource. "
     "Try again."},
    {"PreconditionFailed", 412, "At least one of the preconditions you specified did not hold."},
    // Not an AWS code (AWS has no quotas); Ceph's name. Quotas answer
    // AccessDenied, as Garage does (model/bucket_config.h).
    {"QuotaExceeded", 403, "The bucket quota has been exceeded."},
    {"RequestTimeTooSkewed", 403,
     "The difference between the request time and the server's time is too large."},
    {"RequestTimeout", 400,
     "Your socket connection to the server was not read from or written to within the timeout "
     "period."},
    {"ServiceUnavailable", 503, "Please reduce your request rate."},
    {"SignatureDoesNotMatch", 403,
     "The request signature we calculated does not match the signature you provided. Check "
     "your key and signing method."},
    {"SlowDown", 503, "Please reduce your request rate."},
    {"TooManyBuckets", 400, "You have attempted to create more buckets than allowed."},
    {"XAmzContentSHA256Mismatch", 400,
     "The provided 'x-amz-content-sha256' header does not match what was computed."},
};

static_assert(sizeof(k_codes) / sizeof(k_codes[0]) ==
                  static_cast<size_t>(s3_errc::x_amz_content_sha256_mismatch) + 1,
              "k_codes must list every s3_errc in order");

const code_info& info(s3_errc c) { return k_codes[static_cast<size_t>(c)]; }

}  // namespace

const char* code_name(s3_errc c) { return info(c).name; }
unsigned http_status(s3_errc c) { return info(c).status; }
const char* default_message(s3_errc c) { return info(c).message; }

s3_error make_error(s3_errc code, std::string message, std::string resource) {
  if (message.empty()) message = default_message(code);
  return s3_error{code, std::move(message), std::move(resource)};
}

s3_error from_error(const garage::error& e, std::string resource) {
  s3_errc code = s3_errc::internal_error;
  switch (e.code) {
    case errc::invalid_argument:
      code = s3_errc::invalid_argument;
      break;
    case errc::not_found:
      code = s3_errc::no_such_key;
      break;
    case errc::already_exists:
      code = s3_errc::bucket_already_exists;
      break;
    case errc::conflict:
      code = s3_errc::operation_aborted;
      break;
    case errc::permission_denied:
      code = s3_errc::access_denied;
      break;
    case errc::unauthenticated:
      code = s3_errc::access_denied;
      break;
    case errc::unavailable:
      code = s3_errc::service_unavailable;
      break;
    case errc::timeout:
      code = s3_errc::service_unavailable;
      break;
    case errc::too_large:
      code = s3_errc::entity_too_large;
      break;
    case errc::not_implemented:
      code = s3_errc::not_implemented;
      break;
    case errc::io_error:
    case errc::corrupted:
    case errc::internal:
      code = s3_errc::internal_error;
      break;
  }
  return make_error(code, e.message, std::move(resource));
}

std::string error_xml(const s3_error& e, std::string_view request_id) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>";
  out += code_name(e.code);
  out += "</Code><Message>";
  out += xml_escape(e.message.empty() ? std::string_view(default_message(e.code)) : e.message);
  out += "</Message><Resource>";
  out += xml_escape(e.resource);
  out += "</Resource><RequestId>";
  out += xml_escape(request_id);
  out += "</RequestId></Error>";
  return out;
}

}  // namespace garage::s3
