// The admin operations, each a blocking function of the store: the HTTP front
// end (admin_api.cc) runs `execute` on the runtime's blocking pool. Replies are
// Garage v2 JSON documents (see docs/admin-api.md).
//
// Thread-safety: as the store's (any thread). Health and metrics are answered
// by the front end itself and are not handled here.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "api/admin/admin_error.h"
#include "api/admin/cluster_view.h"
#include "api/admin/router.h"

namespace garage {
class worker_runner;
}
namespace garage::model {
class store;
}
namespace garage::rpc {
class layout_manager;
}

namespace garage::admin {

// Facts about this node that the cluster endpoints report.
struct node_facts {
  std::string node_id;
  std::string version;     // garage version string
  std::string s3_addr;     // s3_api.api_bind_addr
  std::string admin_addr;  // admin.api_bind_addr
  std::string hostname;
  std::string metadata_dir;
  std::string data_dir;
  std::shared_ptr<const cluster_view> cluster;  // may be null
};

struct reply {
  unsigned status = 200;
  std::string body;  // JSON, or empty
  std::string content_type = "application/json";
};

// 200 with a JSON document (or an empty body).
inline reply ok_reply(std::string body) {
  reply r;
  r.body = std::move(body);
  return r;
}

// `layout` serves the cluster layout endpoints, `workers` the worker
// endpoints; without one they answer 503.
api_result<reply> execute(model::store& s, const node_facts& facts, const admin_request& req,
                          rpc::layout_manager* layout = nullptr, worker_runner* workers = nullptr);

}  // namespace garage::admin
