// `garage server`: the composition root of a node. Loads the configuration,
// opens the store, runs the S3 API and the admin API on one runtime, runs
// background maintenance every minute, and stops cleanly on SIGINT/SIGTERM.
#pragma once

#include "garage/cli_args.h"

namespace garage {

// Runs until a signal stops the node. Returns the exit code: 0 after a clean
// stop, 1 when the configuration, the store or a listen address fails (with
// one line on stderr naming the cause).
int run_server(const cli::options& opts);

}  // namespace garage
