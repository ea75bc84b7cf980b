// Matching policies against one request (Istio semantics):
//   rule   = every present part matches: any `from` source AND any `to`
//            operation AND every `when` condition;
//   source/operation = every non-empty field matches (AND), an entry of a
//            field is enough (OR), a `not*` field must match none;
//   policy = any of its rules matches (a policy without rules never matches).

import { HeaderMap, JsonObject, JsonType, getPropertyInt, getPropertyString } from "wasmesh-sdk";
import { Cidr, IpAddr, parseIp, stripPort } from "./cidr";
import { JwtOutcome, JwtResult, tokenAudiences } from "./jwt";
import { anyMatches, anyMatchesAny, containsExact } from "./match";
import { Condition, ConditionKey, Operation, Policy, Rule, Source } from "./policy";

// Property paths, allocated once rather than per request.
const SOURCE_ADDRESS: string[] = ["source", "address"];
const DESTINATION_PORT: string[] = ["destination", "port"];

/** A `:path` without its query and fragment. */
function stripQuery(path: string): string {
  let p = path;
  const q = p.indexOf("?");
  if (q >= 0) p = p.substring(0, q);
  const f = p.indexOf("#");
  if (f >= 0) p = p.substring(0, f);
  return p;
}

/** The request attributes policies look at, fetched from the host on first use. */
export class RequestView {
  private ipFetched: bool = false;
  private ip: IpAddr | null = null;
  private portFetched: bool = false;
  private port: string = "";
  // Each pseudo-header is fetched on first use: most rules look at one or two.
  private methodFetched: bool = false;
  private method_: string = "";
  private pathFetched: bool = false;
  private path_: string = "";
  private hostFetched: bool = false;
  private host_: string = "";

  /** `rawPath`: the request's `:path` when the caller already has it (normalized), else null. */
  constructor(readonly headers: HeaderMap, readonly auth: JwtResult, rawPath: string | null = null) {
    if (rawPath !== null) {
      this.path_ = stripQuery(rawPath);
      this.pathFetched = true;
    }
  }

  get authenticated(): bool {
    return this.auth.outcome == JwtOutcome.Valid;
  }

  get method(): string {
    if (!this.methodFetched) {
      this.methodFetched = true;
      const m = this.headers.get(":method");
      if (m !== null) this.method_ = m;
    }
    return this.method_;
  }

  /** The path without query and fragment (what Envoy's PathMatcher sees). */
  get path(): string {
    if (!this.pathFetched) {
      this.pathFetched = true;
      const v = this.headers.get(":path");
      this.path_ = stripQuery(v !== null ? v : "");
    }
    return this.path_;
  }

  get host(): string {
    if (!this.hostFetched) {
      this.hostFetched = true;
      const h = this.headers.get(":authority");
      if (h !== null) this.host_ = h;
    }
    return this.host_;
  }

  /** The peer's IP (`source.address` without the port); null when unknown or unparsable. */
  get sourceIp(): IpAddr | null {
    if (!this.ipFetched) {
      this.ipFetched = true;
      const a = getPropertyString(SOURCE_ADDRESS);
      if (a !== null) this.ip = parseIp(stripPort(a));
    }
    return this.ip;
  }

  get destinationPort(): string {
    if (!this.portFetched) {
      this.portFetched = true;
      const p = getPropertyInt(DESTINATION_PORT, -1);
      this.port = p >= 0 ? p.toString() : "";
    }
    return this.port;
  }
}

function anyCidr(list: Cidr[], ip: IpAddr): bool {
  for (let i = 0; i < list.length; i++) {
    if (unchecked(list[i]).contains(ip)) return true;
  }
  return false;
}

/** "host:port" without the port (IPv6 literals keep their brackets). */
function hostWithoutPort(host: string): string {
  const colon = host.lastIndexOf(":");
  if (colon < 0 || host.indexOf("]", colon) >= 0) return host;
  return host.substring(0, colon);
}

export function matchSource(s: Source, r: RequestView): bool {
  if (s.ipBlocks.length > 0 || s.notIpBlocks.length > 0) {
    const ip = r.sourceIp;
    if (s.ipBlocks.length > 0 && (ip === null || !anyCidr(s.ipBlocks, ip))) return false;
    if (s.notIpBlocks.length > 0 && ip !== null && anyCidr(s.notIpBlocks, ip)) return false;
  }
  if (s.requestPrincipals.length > 0) {
    if (!r.authenticated || !anyMatches(s.requestPrincipals, r.auth.principal)) return false;
  }
  if (s.notRequestPrincipals.length > 0) {
    if (r.authenticated && anyMatches(s.notRequestPrincipals, r.auth.principal)) return false;
  }
  // No mTLS peer identity or namespace here: a positive list cannot match.
  if (s.principals.length > 0 || s.namespaces.length > 0) return false;
  return true;
}

export function matchOperation(o: Operation, r: RequestView): bool {
  if (o.methods.length > 0 && !containsExact(o.methods, r.method)) return false;
  if (o.notMethods.length > 0 && containsExact(o.notMethods, r.method)) return false;
  if (o.paths.length > 0 && !anyMatches(o.paths, r.path)) return false;
  if (o.notPaths.length > 0 && anyMatches(o.notPaths, r.path)) return false;
  if (o.hosts.length > 0 || o.notHosts.length > 0) {
    const full = r.host;
    const bare = hostWithoutPort(full);
    if (o.hosts.length > 0 && !anyMatches(o.hosts, full) && !anyMatches(o.hosts, bare)) return false;
    if (o.notHosts.length > 0 && (anyMatches(o.notHosts, full) || anyMatches(o.notHosts, bare))) return false;
  }
  if (o.ports.length > 0 && !containsExact(o.ports, r.destinationPort)) return false;
  if (o.notPorts.length > 0 && containsExact(o.notPorts, r.destinationPort)) return false;
  return true;
}

/** The values of a claim (a string, or the strings of a list); nested claims by path. */
export function claimValues(claims: JsonObject | null, names: string[]): string[] {
  const out = new Array<string>();
  if (claims === null) return out;
  let obj: JsonObject = claims;
  for (let i = 0; i < names.length - 1; i++) {
    const next = obj.getObject(names[i]);
    if (next === null) return out;
    obj = next;
  }
  const v = obj.get(names[names.length - 1]);
  if (v === null) return out;
  if (v.type == JsonType.String) {
    out.push(v.asString()!);
  } else if (v.type == JsonType.Array) {
    const a = v.asArray()!;
    for (let i = 0; i < a.length; i++) {
      const s = a.items[i].asString();
      if (s !== null) out.push(s);
    }
  }
  return out;
}

function conditionValues(c: Condition, r: RequestView): string[] {
  switch (c.key) {
    case ConditionKey.Header:
      return r.headers.getAll(c.names[0]);
    case ConditionKey.Claim:
      return r.authenticated ? claimValues(r.auth.claims, c.names) : new Array<string>();
    case ConditionKey.Principal: {
      const out = new Array<string>();
      if (r.authenticated) out.push(r.auth.principal);
      return out;
    }
    case ConditionKey.Audiences: {
      const claims = r.auth.claims;
      return r.authenticated && claims !== null ? tokenAudiences(claims) : new Array<string>();
    }
    case ConditionKey.Presenter: {
      const names = ["azp"];
      return r.authenticated ? claimValues(r.auth.claims, names) : new Array<string>();
    }
    case ConditionKey.DestinationPort: {
      const out = new Array<string>();
      const p = r.destinationPort;
      if (p.length > 0) out.push(p);
      return out;
    }
  }
  return new Array<string>();
}

export function matchCondition(c: Condition, r: RequestView): bool {
  if (c.key == ConditionKey.SourceIp) {
    const ip = r.sourceIp;
    if (c.ipValues.length > 0 && (ip === null || !anyCidr(c.ipValues, ip))) return false;
    if (c.notIpValues.length > 0 && ip !== null && anyCidr(c.notIpValues, ip)) return false;
    return true;
  }
  const vals = conditionValues(c, r);
  if (c.values.length > 0 && !anyMatchesAny(c.values, vals)) return false;
  if (c.notValues.length > 0 && anyMatchesAny(c.notValues, vals)) return false;
  return true;
}

export function matchRule(rule: Rule, r: RequestView): bool {
  if (rule.sources.length > 0) {
    let any = false;
    for (let i = 0; i < rule.sources.length && !any; i++) any = matchSource(rule.sources[i], r);
    if (!any) return false;
  }
  if (rule.operations.length > 0) {
    let any = false;
    for (let i = 0; i < rule.operations.length && !any; i++) any = matchOperation(rule.operations[i], r);
    if (!any) return false;
  }
  for (let i = 0; i < rule.conditions.length; i++) {
    if (!matchCondition(rule.conditions[i], r)) return false;
  }
  return true;
}

/** The index of the first matching rule, or -1 (always -1 for a policy without rules). */
export function matchPolicy(p: Policy, r: RequestView): i32 {
  for (let i = 0; i < p.rules.length; i++) {
    if (matchRule(p.rules[i], r)) return i;
  }
  return -1;
}
