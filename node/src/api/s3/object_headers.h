// Which request headers of a PUT are kept with the object and returned by GET
// and HEAD: the standard content headers and every x-amz-meta-* header.
#pragma once

#include "api/common/http.h"
#include "api/s3/s3_error.h"
#include "model/object.h"

namespace garage::s3 {

// MetadataTooLarge when user metadata exceeds 2 KiB, as AWS.
s3_result<model::header_list> stored_headers(const http::header_map& request);

}  // namespace garage::s3
