// The static website endpoint: serves buckets that have a website
// configuration (bucket.website, set by PutBucketWebsite) to anonymous
// browsers, chosen by the Host header (see website_request.h). GET and HEAD
// only (OPTIONS for CORS preflights): index documents for directories, the
// error document with status 404, RedirectAllRequestsTo and routing rules,
// Range and conditional GET, and the bucket's CORS rules.
//
// Owned by the composition root; `handler()` is given to an http::server of
// its own (config section s3_web). The store and runtime must outlive it.
// Thread-safe.
#pragma once

#include <memory>

#include "api/common/exchange.h"
#include "api/common/runtime.h"
#include "util/config.h"

namespace garage::model {
class store;
}

namespace garage::web {

class web_api {
 public:
  // cfg.s3_web must be set.
  web_api(http::runtime& rt, model::store& store, const config& cfg);
  ~web_api();
  http::handler handler();

  struct rep;

 private:
  std::shared_ptr<rep> rep_;
};

}  // namespace garage::web
