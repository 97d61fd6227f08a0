// Go's standard formats that promtool's output uses, for byte-identical kilntool output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::tool {

// time.Duration(ms * time.Millisecond).String(): "0s", "15ms", "15.001s", "2h0m0s".
std::string GoDurationMs(int64_t ms);

// units.Base2Bytes(n).String() (alecthomas/units): "730B", "1KiB512B", "3MiB".
std::string GoBase2Bytes(uint64_t n);

// text/tabwriter with padchar ' ' and no flags: every cell but the last of a row is padded
// to max(widest cell of its column + padding, minwidth). Rows are all the same width here.
std::string GoTabwriter(const std::vector<std::vector<std::string>>& rows, size_t minwidth,
                        size_t padding);

}  // namespace kiln::tool
