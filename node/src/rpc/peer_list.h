// peer_list: the known peers of a node, persisted in <metadata_dir>/peer_list
// so that a restarted node redials them. A text file, versioned by its first
// line ("garage-peer-list 1"), then one "<hex id> <host:port>" per line.
// Written through a temporary file and a rename. Not thread-safe (the network
// calls it under its lock).
#pragma once

#include <map>
#include <string>

#include "layout/role.h"
#include "util/result.h"

namespace garage::rpc {

// Missing file: an empty map. Malformed lines are skipped (and logged); an
// unknown version is an error (corrupted).
result<std::map<layout::node_id, std::string>> load_peer_list(const std::string& path);
result<void> save_peer_list(const std::string& path,
                            const std::map<layout::node_id, std::string>& peers);

}  // namespace garage::rpc
