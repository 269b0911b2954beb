// identity: a node's Ed25519 key pair, persisted in its metadata directory.
//
// The node id is the 32-byte public key. The key pair is created on first start
// and kept in two files:
//   <dir>/node_key      the private key, PEM (PKCS#8), mode 0600
//   <dir>/node_key.pub  the 32 raw bytes of the public key
// A key pair whose two files disagree is an error (corrupted), never silently
// replaced: the node id is the node's name in the cluster layout.
//
// The TLS certificate of the node (self-signed, made at start from the key) is
// produced here too, so that OpenSSL key handling lives in one file.
// Plain value type; thread-safe for concurrent const use.
#pragma once

#include <memory>
#include <string>

#include "layout/role.h"
#include "util/result.h"

namespace garage::rpc {

class node_identity {
 public:
  // Loads the key pair from `dir`, creating it (and `dir`) if absent.
  // Errors: io_error (cannot read or write), corrupted (unreadable key,
  // public key file that does not match the private key).
  static result<node_identity> load_or_create(const std::string& dir);
  // A fresh key pair kept in memory only (tests).
  static result<node_identity> generate();

  const layout::node_id& id() const { return id_; }
  // PEM of the private key (PKCS#8) and of a self-signed X.509 certificate
  // for that key, valid from now for 100 years, subject CN = full hex id.
  const std::string& private_key_pem() const { return key_pem_; }
  result<std::string> make_certificate_pem() const;

 private:
  layout::node_id id_{};
  std::string key_pem_;
};

// The Ed25519 public key of a DER or PEM certificate; corrupted if it is not
// an Ed25519 certificate.
result<layout::node_id> ed25519_key_of_certificate_der(const std::string& der);

}  // namespace garage::rpc
