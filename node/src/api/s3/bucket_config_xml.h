// The XML documents of the bucket configuration endpoints: CORS, website and
// lifecycle configurations, parsed and validated into the model's structs
// (model/cors.h, model/website_config.h, model/lifecycle.h) and written back.
// Pure functions, thread-safe.
//
// Errors follow AWS: MalformedXML for a document that is not well-formed or
// misses a required element; InvalidRequest / InvalidArgument for values AWS
// refuses (an unsupported CORS method, two wildcards in an origin, a redirect
// code that is not 3xx, Days that is not positive, ...); NotImplemented for
// lifecycle features this node does not apply (Transition, noncurrent
// versions, tag filters).
#pragma once

#include <string>
#include <string_view>

#include "api/s3/s3_error.h"
#include "model/cors.h"
#include "model/lifecycle.h"
#include "model/website_config.h"

namespace garage::s3 {

s3_result<model::cors_config> parse_cors_configuration(std::string_view body);
std::string cors_configuration_xml(const model::cors_config& c);

s3_result<model::website_config> parse_website_configuration(std::string_view body);
std::string website_configuration_xml(const model::website_config& c);

s3_result<model::lifecycle_config> parse_lifecycle_configuration(std::string_view body);
std::string lifecycle_configuration_xml(const model::lifecycle_config& c);

}  // namespace garage::s3
