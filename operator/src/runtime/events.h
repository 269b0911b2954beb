// event_recorder: Kubernetes Events (core/v1) about the objects the
// operator manages, as client-go's EventRecorder writes them.
//
// An Event goes to the object's namespace ("default" for cluster-scoped
// objects), named "<object name>.<hex nanoseconds>", with involvedObject from
// the object's apiVersion, kind, name, namespace, uid and resourceVersion,
// source.component / host, type Normal or Warning, reason, message, and
// firstTimestamp / lastTimestamp / count. The same (object uid, type, reason,
// message) again within 10 minutes patches count and lastTimestamp of the
// Event written before instead of creating one (client-go's aggregation,
// simplified).
//
// normal() and warning() only queue the Event: a background thread writes it,
// so a slow API server never holds up a reconcile. Failures are logged, never
// thrown; Events beyond 1000 waiting are dropped (logged). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <tuple>

#include "k8s/client.h"

namespace garage::op {

class event_recorder {
 public:
  event_recorder(std::shared_ptr<k8s::client> c, std::string component = "garage-operator",
                 std::string host = {});
  // Writes what is queued (for up to 5 s), then stops; what is still waiting
  // then is dropped (logged).
  ~event_recorder();
  event_recorder(const event_recorder&) = delete;
  event_recorder& operator=(const event_recorder&) = delete;

  void normal(const nlohmann::json& object, const std::string& reason, const std::string& message);
  void warning(const nlohmann::json& object, const std::string& reason, const std::string& message);

  // Blocks until every Event queued so far was written (or failed), or
  // `timeout`; true if the queue is empty. For tests and shutdown.
  bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  struct pending {
    nlohmann::json object;
    std::string type, reason, message;
    std::chrono::system_clock::time_point when;
  };
  struct written {
    std::string ns, name;
    int count = 0;
    std::string first_timestamp;
    std::chrono::steady_clock::time_point last_seen;
  };
  using aggregate_key = std::tuple<std::string, std::string, std::string, std::string>;

  void record(const nlohmann::json& object, const std::string& type, const std::string& reason,
              const std::string& message);
  void loop(std::stop_token stop);
  void write(const pending& p);

  std::shared_ptr<k8s::client> client_;
  std::string component_, host_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<pending> queue_;
  bool writing_ = false;
  std::map<aggregate_key, written> written_;  // only the writer thread touches it
  std::jthread writer_;
};

}  // namespace garage::op
