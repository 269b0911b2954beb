// The lifecycle worker: applies each bucket's lifecycle rules
// (model/lifecycle.h). Expired objects are deleted through the normal delete
// path (a delete marker, whose hook releases the version's blocks for the
// block GC), incomplete multipart uploads past their
// AbortIncompleteMultipartUpload are aborted (their blocks released too).
//
// A bucket is processed at most once per period of lifecycle_interval_secs
// (a day by default): the period of its last run is kept in this node's
// metadata database (tree "lifecycle_runs"), so a restart or a second call
// in the same period does no work. The rules are evaluated at
// now + lifecycle_clock_offset_secs (0 but in tests).
//
// Blocking; the composition root calls it from a background thread.
#pragma once

#include <cstdint>
#include <string>

#include "util/result.h"

namespace garage::model {

class store;

struct lifecycle_stats {
  size_t buckets = 0;  // buckets processed in this pass
  size_t expired = 0;  // objects deleted
  size_t aborted = 0;  // multipart uploads aborted
};

result<lifecycle_stats> run_lifecycle(store& s, uint64_t now_msec);

}  // namespace garage::model
