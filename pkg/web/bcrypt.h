// bcrypt password hashes (the basic_auth_users of a web config), verified through libcrypt's
// crypt_r, which Debian's libxcrypt implements for the $2a$, $2b$ and $2y$ variants.
// Thread-safe: no shared state.
#pragma once

#include <string>
#include <string_view>

#include "pkg/util/result.h"

namespace kiln::web {

// OK when `hash` is a well-formed bcrypt hash ("$2<a|b|y>$<cost 04..31>$" + 53 characters).
// Errors: kBadData saying what is wrong, as Go's bcrypt.Cost() does.
Status CheckBcryptHash(std::string_view hash);

// Whether `password` hashes to `hash`. False for a malformed hash. Takes as long as the hash's
// cost demands (bcrypt is slow on purpose); the final comparison is constant-time.
bool BcryptMatches(std::string_view hash, std::string_view password);

// A bcrypt hash of `password` with `cost` (4..31) and a random salt; for tests and tooling.
// Errors: kInternal when libcrypt cannot make one.
Result<std::string> BcryptHash(std::string_view password, int cost);

}  // namespace kiln::web
