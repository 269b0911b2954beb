// The admin commands of the `garage` binary (everything but `server`): each
// is one or a few admin API calls, printed as aligned text or, with --json,
// as the API's JSON. See docs/cli.md.
#pragma once

#include <functional>
#include <iosfwd>

#include "garage/cli_args.h"
#include "garage/http_client.h"
#include "util/result.h"

namespace garage::cli {

// Sends one request to the admin API (authentication added by the caller's
// implementation). Transport failures are errors whose message says which
// address could not be reached.
using api_caller = std::function<result<http_response>(const http_request&)>;

// Runs an admin command against `call`. Returns the exit code: 0, or 1 after
// printing one line "garage: <message>" on `err`.
int run_command(const command& cmd, const api_caller& call, std::ostream& out, std::ostream& err);

// Resolves the admin address and token (options, then GARAGE_ADMIN_ADDR /
// GARAGE_ADMIN_TOKEN, then the configuration) and runs the command against
// the real API. Returns the exit code.
int run_cli(const command& cmd);

}  // namespace garage::cli
