// UTF-8 validation with Go's utf8.ValidString semantics (no overlong forms, no UTF-16
// surrogates, nothing above U+10FFFF), which is what Prometheus checks label names and
// values, help texts and API parameters against. One implementation for every module.
#pragma once

#include <string_view>

namespace kiln {

bool IsValidUtf8(std::string_view s);

}  // namespace kiln
