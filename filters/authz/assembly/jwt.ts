// JWT authentication (RFC 7519 / RFC 7515, compact serialization) with
// Istio RequestAuthentication semantics: a request without a token passes
// unauthenticated; a request with a token that fails any check is rejected.
// Signatures are verified by the host (`wasmesh.verify_signature`).

import {
  HeaderMap, JsonObject, JsonType, JsonValue, Status, base64url, callForeignFunction, crypto, jsonTypeName, log,
  parseJson,
} from "wasmesh-sdk";
import {
  arrayField, boolField, checkKeys, fail, hasError, index, join, objectAt, stringField, stringList,
} from "./fields";

/** Leeway for `exp` and `nbf`, as in Envoy's jwt_authn (60 s). */
export const CLOCK_SKEW_SECONDS: f64 = 60;

/** A verification key from a provider's JWKS. */
export class JwtKey {
  constructor(
    /** `kid`, or "" when the key has none. */
    readonly kid: string,
    /** The JWS alg this key verifies: its own `alg`, else derived from kty (RSA: RS256, EC P-256: ES256, oct: HS256). */
    readonly alg: string,
    /** The JWK as JSON text, passed to the host verifier. */
    readonly json: string,
  ) {}
}

/** Where a token is looked for: a header (with a prefix such as "Bearer ") or a query parameter. */
export class TokenLocation {
  constructor(readonly header: string, readonly prefix: string, readonly param: string) {}

  get isHeader(): bool { return this.header.length > 0; }

  same(other: TokenLocation): bool {
    return this.header == other.header && this.prefix.toLowerCase() == other.prefix.toLowerCase() && this.param == other.param;
  }
}

export class JwtProvider {
  issuer: string = "";
  audiences: string[] = [];
  keys: JwtKey[] = [];
  locations: TokenLocation[] = [];
  forwardOriginalToken: bool = false;

  hasLocation(loc: TokenLocation): bool {
    for (let i = 0; i < this.locations.length; i++) {
      if (this.locations[i].same(loc)) return true;
    }
    return false;
  }
}

export const enum JwtOutcome {
  NoToken = 0,
  Valid = 1,
  Invalid = 2,
}

/** What authentication found out about the request. */
export class JwtResult {
  outcome: JwtOutcome = JwtOutcome.NoToken;
  /** Why the token was refused (Envoy's wording), for logs and response details. */
  reason: string = "";
  /** `iss/sub` of a valid token. */
  principal: string = "";
  claims: JsonObject | null = null;
  /** The provider that validated the token. */
  provider: JwtProvider | null = null;
  /** Where the token was found. */
  location: TokenLocation | null = null;

  static invalid(reason: string): JwtResult {
    const r = new JwtResult();
    r.outcome = JwtOutcome.Invalid;
    r.reason = reason;
    return r;
  }
}

// ---- configuration

const PROVIDER_FIELDS: string[] = ["issuer", "audiences", "jwks", "fromHeaders", "fromParams", "forwardOriginalToken"];
const FROM_HEADER_FIELDS: string[] = ["name", "prefix"];

/** Parses `jwt.providers[i]`; null (with an error recorded) when invalid. */
export function parseProvider(o: JsonObject, path: string): JwtProvider | null {
  if (!checkKeys(o, PROVIDER_FIELDS, path)) return null;
  const p = new JwtProvider();
  const issuer = stringField(o, "issuer", "", path);
  if (issuer === null) return null;
  if (issuer.length == 0) {
    fail(join(path, "issuer"), "required");
    return null;
  }
  p.issuer = issuer;
  const aud = stringList(o, "audiences", path);
  if (aud === null) return null;
  p.audiences = aud;
  p.forwardOriginalToken = boolField(o, "forwardOriginalToken", false, path);

  const headers = arrayField(o, "fromHeaders", path);
  if (headers === null) return null;
  for (let i = 0; i < headers.length; i++) {
    const hp = index(join(path, "fromHeaders"), i);
    const h = objectAt(headers.items[i], hp);
    if (h === null || !checkKeys(h, FROM_HEADER_FIELDS, hp)) return null;
    const name = stringField(h, "name", "", hp);
    const prefix = stringField(h, "prefix", "", hp);
    if (name === null || prefix === null) return null;
    if (name.length == 0) {
      fail(join(hp, "name"), "required");
      return null;
    }
    p.locations.push(new TokenLocation(name.toLowerCase(), prefix, ""));
  }
  const params = stringList(o, "fromParams", path);
  if (params === null) return null;
  for (let i = 0; i < params.length; i++) {
    if (params[i].length == 0) {
      fail(index(join(path, "fromParams"), i), "must not be empty");
      return null;
    }
    p.locations.push(new TokenLocation("", "", params[i]));
  }
  if (p.locations.length == 0) p.locations.push(new TokenLocation("authorization", "Bearer ", ""));

  const jwksValue = o.get("jwks");
  if (jwksValue === null || jwksValue.type == JsonType.Null) {
    fail(join(path, "jwks"), "required (the JWKS as JSON text or as an object; jwksUri is not supported)");
    return null;
  }
  if (!parseJwks(jwksValue, join(path, "jwks"), p)) return null;
  return p;
}

function parseJwks(v: JsonValue, path: string, p: JwtProvider): bool {
  let doc: JsonObject | null = null;
  const text = v.asString();
  if (text !== null) {
    const r = parseJson(text);
    if (!r.ok) return fail(path, "invalid JSON: " + r.error);
    doc = r.value!.asObject();
    if (doc === null) return fail(path, "expected a JWKS object {\"keys\": [...]}");
  } else {
    doc = v.asObject();
    if (doc === null) return fail(path, "expected a JWKS (JSON text or object), got " + jsonTypeName(v.type));
  }
  const keys = doc.getArray("keys");
  if (keys === null) return fail(join(path, "keys"), "required: a list of JWKs");
  for (let i = 0; i < keys.length; i++) {
    const kp = index(join(path, "keys"), i);
    const k = objectAt(keys.items[i], kp);
    if (k === null) return false;
    const key = parseJwk(k, kp);
    if (key === null) {
      if (hasError()) return false;
      continue; // unsupported but well-formed: skipped with a warning
    }
    p.keys.push(key);
  }
  if (p.keys.length == 0) return fail(join(path, "keys"), "no usable key (RS256, ES256 P-256 or HS256)");
  return true;
}

function keyError(path: string, message: string): JwtKey | null {
  fail(path, message);
  return null;
}

function requireB64(k: JsonObject, field: string, exactLen: i32): bool {
  const s = k.getString(field, "");
  if (s.length == 0) return false;
  const b = base64url.decode(s);
  if (b === null) return false;
  return exactLen < 0 ? b.byteLength > 0 : b.byteLength == exactLen;
}

/** One JWK. Null and an error for a malformed key; null without error for a key of an unsupported type. */
function parseJwk(k: JsonObject, path: string): JwtKey | null {
  const kty = k.getString("kty", "");
  if (kty.length == 0) return keyError(join(path, "kty"), "required");
  const use = k.getString("use", "sig");
  const kid = k.getString("kid", "");
  const keyAlg = k.getString("alg", "");
  let alg: string;
  if (kty == "RSA") {
    if (!requireB64(k, "n", -1) || !requireB64(k, "e", -1)) return keyError(path, "an RSA key needs base64url \"n\" and \"e\"");
    alg = "RS256";
  } else if (kty == "EC") {
    const crv = k.getString("crv", "");
    if (crv != "P-256") {
      log.warn("authz: " + path + ": EC curve \"" + crv + "\" is not supported (only P-256 / ES256); key skipped");
      return null;
    }
    if (!requireB64(k, "x", 32) || !requireB64(k, "y", 32)) return keyError(path, "a P-256 key needs 32-byte base64url \"x\" and \"y\"");
    alg = "ES256";
  } else if (kty == "oct") {
    if (!requireB64(k, "k", -1)) return keyError(path, "a symmetric (oct) key needs a non-empty base64url \"k\"");
    alg = "HS256";
  } else {
    log.warn("authz: " + path + ": key type \"" + kty + "\" is not supported; key skipped");
    return null;
  }
  if (keyAlg.length > 0 && keyAlg != alg) {
    log.warn("authz: " + path + ": alg \"" + keyAlg + "\" is not supported for kty " + kty + "; key skipped");
    return null;
  }
  if (use != "sig") {
    log.warn("authz: " + path + ": key with use \"" + use + "\" is not a signing key; skipped");
    return null;
  }
  const json = k.stringify();
  if (alg != "HS256" && !hostAcceptsKey(alg, json)) return keyError(path, "the host cannot parse this " + kty + " key");
  return new JwtKey(kid, alg, json);
}

/** Asks the host to verify a dummy signature: BadArgument means it could not parse the key. */
function hostAcceptsKey(alg: string, json: string): bool {
  const a = String.UTF8.encode(alg);
  const k = String.UTF8.encode(json);
  const d = String.UTF8.encode("e30.e30");
  const sigLen = alg == "ES256" ? 64 : 256;
  const args = new ArrayBuffer(16 + a.byteLength + k.byteLength + d.byteLength + sigLen);
  let p = changetype<usize>(args);
  p = putField(p, a, a.byteLength);
  p = putField(p, k, k.byteLength);
  p = putField(p, d, d.byteLength);
  store<u32>(p, <u32>sigLen); // the signature: sigLen zero bytes (already zero)
  const r = callForeignFunction("wasmesh.verify_signature", args);
  return r.status != Status.BadArgument;
}

function putField(p: usize, field: ArrayBuffer, n: i32): usize {
  store<u32>(p, <u32>n);
  memory.copy(p + 4, changetype<usize>(field), <usize>n);
  return p + 4 + <usize>n;
}

// ---- extraction

/** The token at `loc`, or null when that location holds none. */
function tokenAt(loc: TokenLocation, headers: HeaderMap, query: string): string | null {
  if (loc.isHeader) {
    const v = headers.get(loc.header);
    if (v === null) return null;
    const prefix = loc.prefix;
    if (prefix.length > 0) {
      if (v.length < prefix.length || v.substring(0, prefix.length).toLowerCase() != prefix.toLowerCase()) return null;
      return v.substring(prefix.length).trim();
    }
    return v.trim();
  }
  if (query.length == 0) return null;
  const parts = query.split("&");
  const want = loc.param + "=";
  for (let i = 0; i < parts.length; i++) {
    if (parts[i].startsWith(want)) return parts[i].substring(want.length);
  }
  return null;
}

/** Decodes a base64url JSON object segment; null when it is not one. */
function decodeSegment(seg: string): JsonObject | null {
  const text = base64url.decodeString(seg);
  if (text === null) return null;
  const r = parseJson(text);
  if (!r.ok) return null;
  return r.value!.asObject();
}

/** A NumericDate claim: NaN when absent; -Infinity (always invalid) when present but not a number. */
function numericClaim(payload: JsonObject, name: string): f64 {
  const v = payload.get(name);
  if (v === null) return NaN;
  if (v.type != JsonType.Number) return -Infinity;
  return v.asNumber(0);
}

/** The audiences of a token (`aud` as a string or a list of strings). */
export function tokenAudiences(payload: JsonObject): string[] {
  const out = new Array<string>();
  const v = payload.get("aud");
  if (v === null) return out;
  const s = v.asString();
  if (s !== null) {
    out.push(s);
    return out;
  }
  const a = v.asArray();
  if (a !== null) {
    for (let i = 0; i < a.length; i++) {
      const e = a.items[i].asString();
      if (e !== null) out.push(e);
    }
  }
  return out;
}

function audienceAllowed(p: JwtProvider, payload: JsonObject): bool {
  if (p.audiences.length == 0) return true;
  const aud = tokenAudiences(payload);
  for (let i = 0; i < aud.length; i++) {
    for (let j = 0; j < p.audiences.length; j++) {
      if (aud[i] == p.audiences[j]) return true;
    }
  }
  return false;
}

/** Verifies the signature with the provider's keys: by `kid` when the token names one, else every key of the token's alg. */
function signatureValid(p: JwtProvider, alg: string, kid: string, signingInput: string, sig: ArrayBuffer): bool {
  // Keys with the token's kid first; a token with a kid no key has can still
  // be checked against keys that carry no kid (Envoy's behaviour).
  let tried = 0;
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < p.keys.length; i++) {
      const k = p.keys[i];
      if (k.alg != alg) continue; // never let the token pick how a key is used (alg confusion)
      if (kid.length > 0) {
        if (pass == 0 && k.kid != kid) continue;
        if (pass == 1 && k.kid.length > 0) continue;
      } else if (pass == 1) {
        continue;
      }
      tried++;
      if (crypto.verifySignature(alg, k.json, signingInput, sig)) return true;
    }
    if (tried > 0) break;
  }
  return false;
}

/**
 * Finds and validates the request's token. Providers are tried in order;
 * the first location holding a token decides (its issuer picks the provider,
 * which must list that location).
 */
export function authenticate(providers: JwtProvider[], headers: HeaderMap, query: string, nowMs: u64): JwtResult {
  let token: string | null = null;
  let loc: TokenLocation | null = null;
  for (let i = 0; i < providers.length && token === null; i++) {
    const locs = providers[i].locations;
    for (let j = 0; j < locs.length; j++) {
      const t = tokenAt(locs[j], headers, query);
      if (t !== null) {
        token = t;
        loc = locs[j];
        break;
      }
    }
  }
  if (token === null) return new JwtResult();
  const where = loc!;

  const dot1 = token.indexOf(".");
  const dot2 = dot1 < 0 ? -1 : token.indexOf(".", dot1 + 1);
  if (dot1 <= 0 || dot2 < 0 || token.indexOf(".", dot2 + 1) >= 0 || dot2 == token.length - 1) {
    return JwtResult.invalid("Jwt is not in the form of Header.Payload.Signature");
  }
  const header = decodeSegment(token.substring(0, dot1));
  if (header === null) return JwtResult.invalid("Jwt header is an invalid JSON");
  const payload = decodeSegment(token.substring(dot1 + 1, dot2));
  if (payload === null) return JwtResult.invalid("Jwt payload is an invalid JSON");

  const alg = header.getString("alg", "");
  if (alg != "RS256" && alg != "ES256" && alg != "HS256") return JwtResult.invalid("Jwt algorithm is not supported");
  if (header.has("crit")) return JwtResult.invalid("Jwt header has unsupported critical parameters");
  if (header.typeOf("kid") != -1 && header.typeOf("kid") != <i32>JsonType.String) return JwtResult.invalid("Jwt header kid is not a string");
  const kid = header.getString("kid", "");

  if (payload.typeOf("iss") != <i32>JsonType.String) return JwtResult.invalid("Jwt issuer is missing");
  const iss = payload.getString("iss", "");
  let provider: JwtProvider | null = null;
  for (let i = 0; i < providers.length; i++) {
    const p = providers[i];
    if (p.issuer == iss && p.hasLocation(where)) {
      provider = p;
      break;
    }
  }
  if (provider === null) return JwtResult.invalid("Jwt issuer is not configured");
  const prov: JwtProvider = provider;

  const now = <f64>nowMs / 1000.0;
  const exp = numericClaim(payload, "exp");
  if (exp == -Infinity) return JwtResult.invalid("Jwt exp is not a number");
  if (!isNaN(exp) && now > exp + CLOCK_SKEW_SECONDS) return JwtResult.invalid("Jwt is expired");
  const nbf = numericClaim(payload, "nbf");
  if (nbf == -Infinity) return JwtResult.invalid("Jwt nbf is not a number");
  if (!isNaN(nbf) && now < nbf - CLOCK_SKEW_SECONDS) return JwtResult.invalid("Jwt not yet valid");
  if (!audienceAllowed(prov, payload)) return JwtResult.invalid("Audiences in Jwt are not allowed");
  const subType = payload.typeOf("sub");
  if (subType != -1 && subType != <i32>JsonType.String) return JwtResult.invalid("Jwt sub is not a string");

  const sig = base64url.decode(token.substring(dot2 + 1));
  if (sig === null || sig.byteLength == 0) return JwtResult.invalid("Jwt signature is not base64url");
  if (!signatureValid(prov, alg, kid, token.substring(0, dot2), sig)) return JwtResult.invalid("Jwt verification fails");

  const r = new JwtResult();
  r.outcome = JwtOutcome.Valid;
  r.principal = iss + "/" + payload.getString("sub", "");
  r.claims = payload;
  r.provider = prov;
  r.location = where;
  return r;
}
