#include "pkg/discovery/dns_discoverer.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

namespace kiln::discovery {
namespace {

int QueryType(const std::string& type) {
  if (type == "A") return ns_t_a;
  if (type == "AAAA") return ns_t_aaaa;
  if (type == "MX") return ns_t_mx;
  if (type == "NS") return ns_t_ns;
  return ns_t_srv;
}

std::string HostPort(const std::string& host, int port, bool ipv6) {
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// Expands the (possibly compressed) domain name at `p` into a rooted name ("a.b.").
Result<std::string> ExpandName(const ns_msg& msg, const unsigned char* p) {
  char buf[NS_MAXDNAME];
  if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), p, buf, sizeof buf) < 0) {
    return Status::BadData("malformed domain name in DNS response");
  }
  return std::string(buf) + ".";
}

std::string TrimDot(std::string s) {
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// One target from one answer record; false when the record is of another type.
Result<bool> RecordTarget(const ns_msg& msg, const ns_rr& rr, int qtype, const std::string& name,
                          int port, model::Labels* out) {
  if (ns_rr_type(rr) != qtype) return false;
  const unsigned char* rd = ns_rr_rdata(rr);
  size_t len = ns_rr_rdlen(rr);
  std::vector<model::Label> l{{"__meta_dns_name", name}};
  char ip[INET6_ADDRSTRLEN];
  if (qtype == ns_t_a || qtype == ns_t_aaaa) {
    bool v6 = qtype == ns_t_aaaa;
    if (len != (v6 ? 16u : 4u) || !inet_ntop(v6 ? AF_INET6 : AF_INET, rd, ip, sizeof ip)) {
      return Status::BadData("malformed address record in DNS response");
    }
    l.push_back({"__address__", HostPort(ip, port, v6)});
  } else if (qtype == ns_t_srv) {
    if (len < 7) return Status::BadData("malformed SRV record in DNS response");
    int srv_port = (rd[4] << 8) | rd[5];
    KILN_ASSIGN_OR_RETURN(std::string target, ExpandName(msg, rd + 6));
    l.push_back({"__meta_dns_srv_record_target", target});
    l.push_back({"__meta_dns_srv_record_port", std::to_string(srv_port)});
    l.push_back({"__address__", HostPort(TrimDot(target), srv_port, false)});
  } else {
    const unsigned char* host = qtype == ns_t_mx ? rd + 2 : rd;
    if (qtype == ns_t_mx && len < 3) return Status::BadData("malformed MX record");
    KILN_ASSIGN_OR_RETURN(std::string target, ExpandName(msg, host));
    l.push_back(
        {qtype == ns_t_mx ? "__meta_dns_mx_record_target" : "__meta_dns_ns_record_target", target});
    l.push_back({"__address__", HostPort(TrimDot(target), port, false)});
  }
  *out = model::Labels::FromVector(std::move(l));
  return true;
}

}  // namespace

Result<std::vector<model::Labels>> DnsDiscoverer::ParseResponse(std::string_view raw,
                                                                const std::string& name,
                                                                const std::string& type, int port) {
  ns_msg msg;
  if (ns_initparse(reinterpret_cast<const unsigned char*>(raw.data()), raw.size(), &msg) < 0) {
    return Status::BadData("malformed DNS response for " + name);
  }
  int qtype = QueryType(type);
  std::vector<model::Labels> targets;
  for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
      return Status::BadData("malformed DNS record for " + name);
    }
    model::Labels t;
    KILN_ASSIGN_OR_RETURN(bool ok, RecordTarget(msg, rr, qtype, name, port, &t));
    if (ok) targets.push_back(std::move(t));
  }
  return targets;
}

Status DnsDiscoverer::RefreshOne(struct __res_state* state, const std::string& name,
                                 TargetGroup* g) const {
  std::vector<unsigned char> answer(65536);
  int n = res_nquery(state, name.c_str(), ns_c_in, QueryType(cfg_.type), answer.data(),
                     static_cast<int>(answer.size()));
  if (n < 0) return Status::Unavailable("error looking up " + name);
  g->source = name;
  KILN_ASSIGN_OR_RETURN(
      g->targets, ParseResponse(std::string_view(reinterpret_cast<char*>(answer.data()), n), name,
                                cfg_.type, static_cast<int>(cfg_.port)));
  return Status::OK();
}

Result<std::vector<TargetGroup>> DnsDiscoverer::Refresh() {
  struct __res_state state {};
  if (res_ninit(&state) != 0) return Status::Unavailable("cannot initialise the resolver");
  std::vector<TargetGroup> groups;
  for (const std::string& name : cfg_.names) {
    TargetGroup g;
    Status s = RefreshOne(&state, name, &g);
    if (s.ok()) {
      last_[name] = g;
    } else {
      logger_.Error("Error refreshing DNS targets", {{"err", s.message()}});
      auto it = last_.find(name);
      if (it == last_.end()) continue;
      g = it->second;
    }
    groups.push_back(std::move(g));
  }
  res_nclose(&state);
  return groups;
}

}  // namespace kiln::discovery
