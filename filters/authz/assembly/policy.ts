// The authorization policy model (Istio AuthorizationPolicy) and its parser.
// Matching against a request lives in evaluate.ts.

import { JsonObject, parseConfig } from "wasmesh-sdk";
import { Cidr, parseCidr } from "./cidr";
import {
  arrayField, checkKeys, fail, hasError, index, join, objectAt, optionalObject, resetErrors, stringField, stringList,
  takeError,
} from "./fields";
import { JwtProvider, parseProvider } from "./jwt";
import { StringMatcher, toMatchers } from "./match";
import { PathNormalization } from "./path";

export const enum PolicyAction {
  Allow = 0,
  Deny = 1,
  Audit = 2,
}

export function actionName(a: PolicyAction): string {
  return a == PolicyAction.Allow ? "ALLOW" : a == PolicyAction.Deny ? "DENY" : "AUDIT";
}

/** `from[].source`: every non-empty field must match (AND); inside a field, any entry (OR). */
export class Source {
  ipBlocks: Cidr[] = [];
  notIpBlocks: Cidr[] = [];
  requestPrincipals: StringMatcher[] = [];
  notRequestPrincipals: StringMatcher[] = [];
  /** mTLS peer identities: wasmesh has no mTLS identity, so a non-empty list never matches. */
  principals: StringMatcher[] = [];
  notPrincipals: StringMatcher[] = [];
  namespaces: StringMatcher[] = [];
  notNamespaces: StringMatcher[] = [];
}

/** `to[].operation`. */
export class Operation {
  methods: string[] = [];
  notMethods: string[] = [];
  paths: StringMatcher[] = [];
  notPaths: StringMatcher[] = [];
  hosts: StringMatcher[] = [];
  notHosts: StringMatcher[] = [];
  ports: string[] = [];
  notPorts: string[] = [];
}

export const enum ConditionKey {
  Header = 0,
  Claim = 1,
  SourceIp = 2,
  Principal = 3,
  Audiences = 4,
  Presenter = 5,
  DestinationPort = 6,
}

/** One `when` entry; every entry of a rule must hold (AND), values inside one are OR'd. */
export class Condition {
  key: ConditionKey = ConditionKey.Header;
  /** The text of the key, for logs. */
  keyText: string = "";
  /** Header name (lowercase), or the claim path (nested claims: `[a][b]`). */
  names: string[] = [];
  values: StringMatcher[] = [];
  notValues: StringMatcher[] = [];
  /** For `source.ip`: the values as CIDRs. */
  ipValues: Cidr[] = [];
  notIpValues: Cidr[] = [];
}

export class Rule {
  /** `from[].source` */
  sources: Source[] = [];
  /** `to[].operation` */
  operations: Operation[] = [];
  /** `when[]` */
  conditions: Condition[] = [];
}

export class Policy {
  name: string = "";
  action: PolicyAction = PolicyAction.Allow;
  rules: Rule[] = [];
}

export class AuthzConfig {
  policies: Policy[] = [];
  providers: JwtProvider[] = [];
  hasAllow: bool = false;
  hasDeny: bool = false;
  hasAudit: bool = false;
  pathNormalization: PathNormalization = PathNormalization.MergeSlashes;
}

const TOP_FIELDS: string[] = ["policies", "jwt", "pathNormalization"];
const JWT_FIELDS: string[] = ["providers"];
const POLICY_FIELDS: string[] = ["name", "action", "rules"];
const RULE_FIELDS: string[] = ["from", "to", "when"];
const FROM_FIELDS: string[] = ["source"];
const TO_FIELDS: string[] = ["operation"];
const SOURCE_FIELDS: string[] = [
  "ipBlocks", "notIpBlocks", "requestPrincipals", "notRequestPrincipals", "principals", "notPrincipals",
  "namespaces", "notNamespaces",
];
const OPERATION_FIELDS: string[] = ["methods", "notMethods", "paths", "notPaths", "hosts", "notHosts", "ports", "notPorts"];
const CONDITION_FIELDS: string[] = ["key", "values", "notValues"];

/** Parses the filter configuration; null after recording the first error (see `lastConfigError`). */
export function parseAuthzConfig(text: string): AuthzConfig | null {
  resetErrors();
  const root = parseConfig(text);
  if (root === null) {
    fail("config", "not a JSON object");
    return null;
  }
  if (!checkKeys(root, TOP_FIELDS, "")) return null;
  const cfg = new AuthzConfig();
  const norm = stringField(root, "pathNormalization", "MERGE_SLASHES", "");
  if (norm === null) return null;
  if (norm == "NONE") cfg.pathNormalization = PathNormalization.None;
  else if (norm == "BASE") cfg.pathNormalization = PathNormalization.Base;
  else if (norm == "MERGE_SLASHES") cfg.pathNormalization = PathNormalization.MergeSlashes;
  else {
    fail("pathNormalization", "unknown value \"" + norm + "\" (expected NONE, BASE or MERGE_SLASHES)");
    return null;
  }

  const jwt = optionalObject(root, "jwt", "");
  if (hasError()) return null;
  if (jwt !== null) {
    if (!checkKeys(jwt, JWT_FIELDS, "jwt")) return null;
    const providers = arrayField(jwt, "providers", "jwt");
    if (providers === null) return null;
    for (let i = 0; i < providers.length; i++) {
      const pp = index("jwt.providers", i);
      const o = objectAt(providers.items[i], pp);
      if (o === null) return null;
      const p = parseProvider(o, pp);
      if (p === null) return null;
      cfg.providers.push(p);
    }
  }

  const policies = arrayField(root, "policies", "");
  if (policies === null) return null;
  for (let i = 0; i < policies.length; i++) {
    const pp = index("policies", i);
    const o = objectAt(policies.items[i], pp);
    if (o === null) return null;
    const p = parsePolicy(o, pp);
    if (p === null) return null;
    if (p.action == PolicyAction.Allow) cfg.hasAllow = true;
    else if (p.action == PolicyAction.Deny) cfg.hasDeny = true;
    else cfg.hasAudit = true;
    cfg.policies.push(p);
  }
  return cfg;
}

/** The error recorded by the last failed `parseAuthzConfig`. */
export function lastConfigError(): string {
  return takeError();
}

function parsePolicy(o: JsonObject, path: string): Policy | null {
  if (!checkKeys(o, POLICY_FIELDS, path)) return null;
  const p = new Policy();
  const name = stringField(o, "name", "", path);
  if (name === null) return null;
  p.name = name.length > 0 ? name : path;
  const action = stringField(o, "action", "ALLOW", path);
  if (action === null) return null;
  if (action == "ALLOW") p.action = PolicyAction.Allow;
  else if (action == "DENY") p.action = PolicyAction.Deny;
  else if (action == "AUDIT") p.action = PolicyAction.Audit;
  else {
    const hint = action == "CUSTOM" ? " (CUSTOM, an external authorizer, is not supported)" : "";
    fail(join(path, "action"), "unknown action \"" + action + "\"; expected ALLOW, DENY or AUDIT" + hint);
    return null;
  }
  const rules = arrayField(o, "rules", path);
  if (rules === null) return null;
  for (let i = 0; i < rules.length; i++) {
    const rp = index(join(path, "rules"), i);
    const ro = objectAt(rules.items[i], rp);
    if (ro === null) return null;
    const r = parseRule(ro, rp);
    if (r === null) return null;
    p.rules.push(r);
  }
  return p;
}

function parseRule(o: JsonObject, path: string): Rule | null {
  if (!checkKeys(o, RULE_FIELDS, path)) return null;
  const r = new Rule();
  const from = arrayField(o, "from", path);
  if (from === null) return null;
  for (let i = 0; i < from.length; i++) {
    const fp = index(join(path, "from"), i);
    const fo = objectAt(from.items[i], fp);
    if (fo === null || !checkKeys(fo, FROM_FIELDS, fp)) return null;
    const so = optionalObject(fo, "source", fp);
    if (so === null) {
      if (!hasError()) fail(join(fp, "source"), "required");
      return null;
    }
    const s = parseSource(so, join(fp, "source"));
    if (s === null) return null;
    r.sources.push(s);
  }
  const to = arrayField(o, "to", path);
  if (to === null) return null;
  for (let i = 0; i < to.length; i++) {
    const tp = index(join(path, "to"), i);
    const to_ = objectAt(to.items[i], tp);
    if (to_ === null || !checkKeys(to_, TO_FIELDS, tp)) return null;
    const oo = optionalObject(to_, "operation", tp);
    if (oo === null) {
      if (!hasError()) fail(join(tp, "operation"), "required");
      return null;
    }
    const op = parseOperation(oo, join(tp, "operation"));
    if (op === null) return null;
    r.operations.push(op);
  }
  const when = arrayField(o, "when", path);
  if (when === null) return null;
  for (let i = 0; i < when.length; i++) {
    const wp = index(join(path, "when"), i);
    const wo = objectAt(when.items[i], wp);
    if (wo === null) return null;
    const c = parseCondition(wo, wp);
    if (c === null) return null;
    r.conditions.push(c);
  }
  return r;
}

function cidrList(o: JsonObject, key: string, path: string): Cidr[] | null {
  const list = stringList(o, key, path);
  if (list === null) return null;
  const out = new Array<Cidr>(list.length);
  for (let i = 0; i < list.length; i++) {
    const c = parseCidr(list[i]);
    if (c === null) {
      fail(index(join(path, key), i), "bad CIDR \"" + list[i] + "\" (expected an IPv4/IPv6 address or address/prefix-length)");
      return null;
    }
    out[i] = c;
  }
  return out;
}

function matcherList(o: JsonObject, key: string, path: string, ignoreCase: bool = false): StringMatcher[] | null {
  const list = stringList(o, key, path);
  if (list === null) return null;
  for (let i = 0; i < list.length; i++) {
    if (list[i].length == 0) {
      fail(index(join(path, key), i), "must not be empty");
      return null;
    }
  }
  return toMatchers(list, ignoreCase);
}

function parseSource(o: JsonObject, path: string): Source | null {
  if (!checkKeys(o, SOURCE_FIELDS, path)) return null;
  const s = new Source();
  const ip = cidrList(o, "ipBlocks", path);
  const notIp = cidrList(o, "notIpBlocks", path);
  const rp = matcherList(o, "requestPrincipals", path);
  const notRp = matcherList(o, "notRequestPrincipals", path);
  const pr = matcherList(o, "principals", path);
  const notPr = matcherList(o, "notPrincipals", path);
  const ns = matcherList(o, "namespaces", path);
  const notNs = matcherList(o, "notNamespaces", path);
  if (ip === null || notIp === null || rp === null || notRp === null || pr === null || notPr === null || ns === null || notNs === null) return null;
  s.ipBlocks = ip;
  s.notIpBlocks = notIp;
  s.requestPrincipals = rp;
  s.notRequestPrincipals = notRp;
  s.principals = pr;
  s.notPrincipals = notPr;
  s.namespaces = ns;
  s.notNamespaces = notNs;
  return s;
}

function portList(o: JsonObject, key: string, path: string): string[] | null {
  const list = stringList(o, key, path);
  if (list === null) return null;
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    let ok = p.length > 0 && p.length <= 5;
    for (let j = 0; ok && j < p.length; j++) ok = p.charCodeAt(j) >= 48 && p.charCodeAt(j) <= 57;
    if (!ok || I32.parseInt(p, 10) > 65535) {
      fail(index(join(path, key), i), "bad port \"" + p + "\"");
      return null;
    }
  }
  return list;
}

function parseOperation(o: JsonObject, path: string): Operation | null {
  if (!checkKeys(o, OPERATION_FIELDS, path)) return null;
  const op = new Operation();
  const methods = stringList(o, "methods", path);
  const notMethods = stringList(o, "notMethods", path);
  const paths = matcherList(o, "paths", path);
  const notPaths = matcherList(o, "notPaths", path);
  const hosts = matcherList(o, "hosts", path, true);
  const notHosts = matcherList(o, "notHosts", path, true);
  const ports = portList(o, "ports", path);
  const notPorts = portList(o, "notPorts", path);
  if (methods === null || notMethods === null || paths === null || notPaths === null || hosts === null || notHosts === null || ports === null || notPorts === null) return null;
  op.methods = methods;
  op.notMethods = notMethods;
  op.paths = paths;
  op.notPaths = notPaths;
  op.hosts = hosts;
  op.notHosts = notHosts;
  op.ports = ports;
  op.notPorts = notPorts;
  return op;
}

/** Parses "[a][b]..." after a key prefix; null when malformed. */
function bracketNames(rest: string): string[] | null {
  const out = new Array<string>();
  let i = 0;
  while (i < rest.length) {
    if (rest.charCodeAt(i) != 91) return null; // [
    const close = rest.indexOf("]", i);
    if (close < 0 || close == i + 1) return null;
    out.push(rest.substring(i + 1, close));
    i = close + 1;
  }
  return out.length > 0 ? out : null;
}

function parseCondition(o: JsonObject, path: string): Condition | null {
  if (!checkKeys(o, CONDITION_FIELDS, path)) return null;
  const c = new Condition();
  const key = stringField(o, "key", "", path);
  if (key === null) return null;
  c.keyText = key;
  const kp = join(path, "key");
  if (key.startsWith("request.headers[")) {
    const names = bracketNames(key.substring(15));
    if (names === null || names.length != 1) {
      fail(kp, "expected request.headers[NAME]");
      return null;
    }
    c.key = ConditionKey.Header;
    c.names = [names[0].toLowerCase()];
  } else if (key.startsWith("request.auth.claims[")) {
    const names = bracketNames(key.substring(19));
    if (names === null) {
      fail(kp, "expected request.auth.claims[NAME] (nested: [a][b])");
      return null;
    }
    c.key = ConditionKey.Claim;
    c.names = names;
  } else if (key == "source.ip") {
    c.key = ConditionKey.SourceIp;
  } else if (key == "request.auth.principal") {
    c.key = ConditionKey.Principal;
  } else if (key == "request.auth.audiences") {
    c.key = ConditionKey.Audiences;
  } else if (key == "request.auth.presenter") {
    c.key = ConditionKey.Presenter;
  } else if (key == "destination.port") {
    c.key = ConditionKey.DestinationPort;
  } else if (key.length == 0) {
    fail(kp, "required");
    return null;
  } else {
    fail(kp, "unsupported key \"" + key + "\" (supported: request.headers[NAME], request.auth.claims[NAME], " +
      "request.auth.principal, request.auth.audiences, request.auth.presenter, source.ip, destination.port)");
    return null;
  }
  if (c.key == ConditionKey.SourceIp) {
    const v = cidrList(o, "values", path);
    const nv = cidrList(o, "notValues", path);
    if (v === null || nv === null) return null;
    c.ipValues = v;
    c.notIpValues = nv;
  } else {
    const v = matcherList(o, "values", path);
    const nv = matcherList(o, "notValues", path);
    if (v === null || nv === null) return null;
    c.values = v;
    c.notValues = nv;
  }
  if (c.values.length == 0 && c.notValues.length == 0 && c.ipValues.length == 0 && c.notIpValues.length == 0) {
    fail(path, "needs values or notValues");
    return null;
  }
  return c;
}
