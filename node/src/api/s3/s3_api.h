// The S3 API front end: turns each HTTP exchange into a typed endpoint
// (router), authenticates it (SigV4), checks the key's permission on the
// bucket, and dispatches to one handler per operation. Errors become S3 error
// XML here, in one place.
//
// Owned by the composition root; `handler()` is given to an http::server. The
// store and runtime must outlive it. Thread-safe.
#pragma once

#include <memory>

#include "api/common/exchange.h"
#include "api/common/runtime.h"
#include "util/config.h"

namespace garage::model {
class store;
}

namespace garage::s3 {

class s3_api {
 public:
  s3_api(http::runtime& rt, model::store& store, const config& cfg);
  ~s3_api();
  http::handler handler();

  struct rep;

 private:
  std::shared_ptr<rep> rep_;
};

}  // namespace garage::s3
