// DnsDiscoverer: dns_sd_configs. Resolves each name with the system resolver (res_query, so
// /etc/resolv.conf applies) for SRV, A, AAAA, MX or NS records and makes one group per name
// (source = the name) with one target per record, labelled as upstream:
//   __meta_dns_name, __meta_dns_srv_record_target ("host." as returned, rooted),
//   __meta_dns_srv_record_port, __meta_dns_mx_record_target, __meta_dns_ns_record_target.
// A name that fails to resolve keeps its last good group and the error is logged, as upstream.
// Used by one thread at a time.
#pragma once

#include <resolv.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "pkg/config/sd_config.h"
#include "pkg/discovery/discoverer.h"
#include "pkg/util/logger.h"

namespace kiln::discovery {

class DnsDiscoverer final : public Discoverer {
 public:
  DnsDiscoverer(config::DNSSDConfig cfg, Logger logger)
      : cfg_(std::move(cfg)), logger_(std::move(logger)) {}

  Result<std::vector<TargetGroup>> Refresh() override;
  std::chrono::milliseconds RefreshInterval() const override {
    return std::chrono::milliseconds(cfg_.refresh_interval.millis());
  }

  // Turns a raw DNS response to a query for `name` of `type` ("SRV", "A", …) into targets;
  // records of other types (CNAMEs on the way) are skipped. `port` is used for all but SRV.
  static Result<std::vector<model::Labels>> ParseResponse(std::string_view msg,
                                                          const std::string& name,
                                                          const std::string& type, int port);

 private:
  // Resolves one name into its group.
  Status RefreshOne(struct __res_state* state, const std::string& name, TargetGroup* g) const;

  const config::DNSSDConfig cfg_;
  const Logger logger_;
  std::map<std::string, TargetGroup> last_;  // last good group per name
};

}  // namespace kiln::discovery
