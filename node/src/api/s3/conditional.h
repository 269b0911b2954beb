// Conditional GET/HEAD: the pure evaluation lives in api/common (the website
// endpoint uses it too); these names keep the S3 handlers' spelling.
#pragma once

#include "api/common/conditional.h"

namespace garage::s3 {

using http::condition_outcome;
using http::conditional_headers;
using http::evaluate_conditions;

}  // namespace garage::s3
