// The model on three in-process cluster nodes (local_net, replication
// factor 3): the orphan-version sweep of store::maintenance. In a cluster a
// PUT references its blocks from a version written side by side with the
// upload's object entry; a version whose object entry never arrived must be
// deleted (releasing its blocks) once idle, and nothing else.
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>

#include "layout/layout.h"
#include "model/bucket_ops.h"
#include "model/ids.h"
#include "model/object_ops.h"
#include "model/store.h"
#include "rpc/local_net.h"
#include "util/clock.h"
#include "util/random.h"

namespace garage::model {
namespace {

rpc::node_id nid(int i) { return blake2b_256("model-node-" + std::to_string(i)); }

class cluster_store_test : public ::testing::Test {
 protected:
  static constexpr int kNodes = 3;

  void SetUp() override {
    layout::layout_parameters params;
    auto h = std::make_shared<layout::layout_history>(params);
    for (int i = 0; i < kNodes; ++i) {
      ASSERT_TRUE(h->stage_role(
          nid(i), layout::node_role::storage("z" + std::to_string(i), 1'000'000'000)));
    }
    ASSERT_TRUE(h->apply(h->current().version() + 1));
    uint64_t v = h->current().version();
    for (const auto& n : h->all_nodes()) {
      h->set_ack(n, v);
      h->set_sync(n, v);
    }
    for (const auto& n : h->all_nodes()) h->set_sync_ack(n, v);
    history_ = h;
    base_ = std::filesystem::temp_directory_path() / ("garage-cluster-model-" + random_hex(6));
    for (int i = 0; i < kNodes; ++i) {
      config cfg = default_config((base_ / std::to_string(i)).string());
      cfg.replication_factor = kNodes;
      cfg.upload_timeout_secs = 100;
      cfg.block_gc_delay_secs = 10;
      cluster_options co;
      co.net = &net_->add(nid(i));
      co.layout = [this] {
        std::lock_guard lk(mu_);
        return history_;
      };
      auto s = store::open(cfg, co);
      ASSERT_TRUE(s.has_value()) << s.error().to_string();
      stores_.push_back(std::move(*s));
    }
  }
  void TearDown() override {
    // The network first (it runs what is still in flight, then stops): a
    // store must not be destroyed while a late reply or request is on its
    // way to it. Nothing in a store touches the transport when destroyed.
    net_.reset();
    stores_.clear();
    std::filesystem::remove_all(base_);
  }
  store& at(int i) { return *stores_.at(i); }
  // Sends every hook-queued entry (object → version → block_ref) to its
  // replicas, as the insert queue worker does.
  void drain() {
    for (int round = 0; round < 5; ++round) {
      for (auto& s : stores_) ASSERT_TRUE(s->drain_queues(1000).has_value());
    }
  }
  std::optional<version> version_on(int i, const std::string& id) {
    auto v = at(i).versions().get_local(id, "");
    EXPECT_TRUE(v.has_value());
    return v ? *v : std::nullopt;
  }

  std::unique_ptr<rpc::local_net> net_ = std::make_unique<rpc::local_net>();
  std::mutex mu_;
  std::shared_ptr<const layout::layout_history> history_;
  std::filesystem::path base_;
  std::vector<std::unique_ptr<store>> stores_;
};

TEST_F(cluster_store_test, MaintenanceDeletesAVersionWhoseObjectEntryNeverArrived) {
  auto bucket = create_bucket(at(0), "photos", std::nullopt);
  ASSERT_TRUE(bucket.has_value()) << bucket.error().to_string();

  // A complete object, written the way a cluster PUT does it: blocks
  // referenced from the new version side by side with begin_upload.
  std::string good = new_version_id();
  std::string good_data(4000, 'g');
  hash256 good_block = blake2b_256(good_data);
  ASSERT_TRUE(at(0).put_block(good_block, good_data).has_value());
  ASSERT_TRUE(add_block(at(0), good, bucket->id, "kept", {0, 0, 0}, {good_block, 4000}));
  ASSERT_TRUE(begin_upload(at(0), bucket->id, "kept", false, object_meta{}, good));
  ASSERT_TRUE(complete_upload(at(0), bucket->id, "kept", good, object_meta{4000, "etag", {}}));

  // An upload in progress whose object entry is there.
  std::string pending = new_version_id();
  ASSERT_TRUE(begin_upload(at(1), bucket->id, "pending", false, object_meta{}, pending));
  std::string pending_data(4000, 'p');
  hash256 pending_block = blake2b_256(pending_data);
  ASSERT_TRUE(at(1).put_block(pending_block, pending_data).has_value());
  ASSERT_TRUE(add_block(at(1), pending, bucket->id, "pending", {0, 0, 0}, {pending_block, 4000}));

  // The orphan: its block and version landed, its begin_upload never did
  // (the node crashed in between).
  std::string orphan = new_version_id();
  std::string orphan_data(4000, 'o');
  hash256 orphan_block = blake2b_256(orphan_data);
  ASSERT_TRUE(at(2).put_block(orphan_block, orphan_data).has_value());
  ASSERT_TRUE(add_block(at(2), orphan, bucket->id, "lost", {0, 0, 0}, {orphan_block, 4000}));
  drain();

  for (int i = 0; i < kNodes; ++i) {
    auto v = version_on(i, orphan);
    ASSERT_TRUE(v && !v->deleted && v->blocks.size() == 1) << "node " << i;
    EXPECT_EQ(at(i).blocks().refcount(orphan_block).value(), 1u) << "node " << i;
  }

  // Not idle long enough yet: nothing happens.
  auto early = at(0).maintenance(now_msec() + 10'000);
  ASSERT_TRUE(early.has_value()) << early.error().to_string();
  EXPECT_FALSE(version_on(0, orphan)->deleted) << *early;

  // Idle past upload_timeout_secs (100 s): the orphan goes, and so do its
  // block references on every node once the hooks' queues are sent; the
  // complete object's version stays. The pending upload is aborted by the
  // stale-upload sweep of the same pass (it is idle too), through its object
  // entry.
  auto later = at(0).maintenance(now_msec() + 200'000);
  ASSERT_TRUE(later.has_value()) << later.error().to_string();
  EXPECT_NE(later->find("deleted 1 orphan versions"), std::string::npos) << *later;
  drain();
  for (int i = 0; i < kNodes; ++i) {
    EXPECT_TRUE(version_on(i, orphan)->deleted) << "node " << i;
    EXPECT_EQ(at(i).blocks().refcount(orphan_block).value(), 0u) << "node " << i;
    auto kept = version_on(i, good);
    ASSERT_TRUE(kept.has_value());
    EXPECT_FALSE(kept->deleted) << "node " << i;
    EXPECT_EQ(at(i).blocks().refcount(good_block).value(), 1u) << "node " << i;
  }
  auto obj = get_object(at(1), bucket->id, "kept");
  ASSERT_TRUE(obj.has_value() && obj->has_value());
  ASSERT_NE((*obj)->current(), nullptr);
  EXPECT_EQ((*obj)->current()->id, good);
}

TEST_F(cluster_store_test, AVersionIsKeptWhenItsObjectCannotBeRead) {
  auto bucket = create_bucket(at(0), "docs", std::nullopt);
  ASSERT_TRUE(bucket.has_value()) << bucket.error().to_string();
  std::string orphan = new_version_id();
  std::string data(4000, 'x');
  hash256 block = blake2b_256(data);
  ASSERT_TRUE(at(0).put_block(block, data).has_value());
  ASSERT_TRUE(add_block(at(0), orphan, bucket->id, "k", {0, 0, 0}, {block, 4000}));
  drain();
  // Node 0 alone: no quorum can say the object does not list the version.
  net_->set_up(nid(1), false);
  net_->set_up(nid(2), false);
  auto r = at(0).maintenance(now_msec() + 200'000);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_NE(r->find("deleted 0 orphan versions"), std::string::npos) << *r;
  EXPECT_FALSE(version_on(0, orphan)->deleted);
}

}  // namespace
}  // namespace garage::model
