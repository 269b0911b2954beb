// The transport over cpprestsdk: HTTPS to the API server with the configured
// CA (or, insecure-skip-tls-verify, none), a client certificate if any, and
// the bearer token (a token file is re-read at most once a minute, as
// Kubernetes rotates service account tokens). This header keeps cpprestsdk
// out of its includers; rest_transport.cc is the one file that includes it.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "k8s/api_error.h"
#include "k8s/kubeconfig.h"
#include "k8s/transport.h"

namespace garage::k8s {

struct rest_options {
  // A send() that gets no byte for this long fails with Timeout.
  std::chrono::seconds request_timeout{30};
  // A stream() (watch) that gets no byte for this long fails with Timeout;
  // keep it above the server-side timeoutSeconds the watch asks for.
  std::chrono::seconds stream_idle_timeout{360};
  std::string user_agent = "garage-operator";
};

// Checks the CA, client certificate and key parse, then builds the transport.
// A bad PEM is an api_error with reason BadRequest and what is wrong.
api_result<std::shared_ptr<transport>> make_rest_transport(const cluster_config& config,
                                                           const rest_options& options = {});

}  // namespace garage::k8s
