// The layout engine, all of it: include this from the node and the operator.
//
//   role.h        node roles, zone redundancy, layout parameters
//   partition.h   256 partitions, partition_of(hash)
//   compute.h     compute_layout / preview_layout: roles -> assignment + report
//   report.h      the explanation of a computation
//   version.h     one numbered layout: who stores which partition
//   staging.h     role changes waiting for the next version
//   history.h     live versions, staging, update trackers, routing sets
//   codec.h       versioned binary encoding for persistence and gossip
//   assignment.h  the solver underneath (index-based, partition count as input)
#pragma once

#include "layout/codec.h"
#include "layout/compute.h"
#include "layout/health.h"
#include "layout/history.h"
#include "layout/partition.h"
#include "layout/report.h"
#include "layout/role.h"
#include "layout/staging.h"
#include "layout/version.h"
