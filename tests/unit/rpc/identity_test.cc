// identity: the node key is created once, kept, and checked.
#include "rpc/identity.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "rpc/network.h"
#include "rpc_test_util.h"

namespace garage::rpc {
namespace {

using test::temp_dir;

TEST(identity, CreatedOnceThenStable) {
  temp_dir d;
  auto first = node_identity::load_or_create(d.path());
  ASSERT_TRUE(first.has_value()) << first.error().to_string();
  auto second = node_identity::load_or_create(d.path());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->id(), second->id());
  struct stat st {};
  ASSERT_EQ(::stat((d.path() + "/node_key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream pub(d.path() + "/node_key.pub", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(pub)), std::istreambuf_iterator<char>());
  EXPECT_EQ(raw, std::string(first->id().view()));
  auto other = node_identity::generate();
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->id(), first->id());
}

TEST(identity, NetworkKeepsItsIdAcrossRestarts) {
  temp_dir d;
  node_id id{};
  {
    auto n = test::start_node(test::test_options(d.path(), test::secret_a));
    ASSERT_TRUE(n);
    id = n->self();
    EXPECT_EQ(n->full_address(), id.hex() + "@127.0.0.1:" + std::to_string(n->port()));
  }
  auto n = test::start_node(test::test_options(d.path(), test::secret_a));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->self(), id);
}

TEST(identity, MismatchedOrCorruptKeyFilesAreErrors) {
  temp_dir d;
  ASSERT_TRUE(node_identity::load_or_create(d.path()).has_value());
  {
    std::ofstream pub(d.path() + "/node_key.pub", std::ios::binary | std::ios::trunc);
    pub << std::string(32, 'z');
  }
  auto r = node_identity::load_or_create(d.path());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::corrupted);
  {
    std::ofstream key(d.path() + "/node_key", std::ios::trunc);
    key << "not a key";
  }
  auto r2 = node_identity::load_or_create(d.path());
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(r2.error().code, errc::corrupted);
  // A missing .pub is rewritten from the private key.
  temp_dir d2;
  auto made = node_identity::load_or_create(d2.path());
  ASSERT_TRUE(made.has_value());
  std::filesystem::remove(d2.path() + "/node_key.pub");
  auto again = node_identity::load_or_create(d2.path());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->id(), made->id());
  EXPECT_TRUE(std::filesystem::exists(d2.path() + "/node_key.pub"));
}

TEST(identity, CertificateCarriesTheNodeKey) {
  auto ident = node_identity::generate();
  ASSERT_TRUE(ident.has_value());
  auto pem = ident->make_certificate_pem();
  ASSERT_TRUE(pem.has_value()) << pem.error().to_string();
  BIO* b = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
  X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  ASSERT_NE(x, nullptr);
  unsigned char* der = nullptr;
  int len = i2d_X509(x, &der);
  X509_free(x);
  ASSERT_GT(len, 0);
  std::string ders(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  auto key = ed25519_key_of_certificate_der(ders);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(*key, ident->id());
  EXPECT_FALSE(ed25519_key_of_certificate_der("garbage").has_value());
}

}  // namespace
}  // namespace garage::rpc
