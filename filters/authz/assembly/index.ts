// authz: Istio AuthorizationPolicy (ALLOW / DENY / AUDIT) with
// RequestAuthentication-style JWT validation. See ../README.md.
//
// Per request: (1) JWT: no token passes unauthenticated, an invalid token is
// answered 401; (2) any matching DENY policy -> 403; (3) matching AUDIT
// policies are logged and counted; (4) if ALLOW policies exist, one must
// match, else 403.
import {
  Action, Counter, HeaderPair, HttpContext, LogLevel, RootContext, callForeignFunction, currentTimeMillis, log,
  registerRoot,
} from "wasmesh-sdk";
import { RequestView, matchPolicy } from "./evaluate";
import { JwtOutcome, JwtResult, authenticate } from "./jwt";
import { PathNormalization, normalizePath } from "./path";
import { AuthzConfig, PolicyAction, actionName, lastConfigError, parseAuthzConfig } from "./policy";

/** The result of a request with no JWT provider configured; shared, never modified. */
const NO_TOKEN = new JwtResult();

const allowed = new Counter("allowed");
const denied = new Counter("denied");
const audited = new Counter("audit");
const jwtInvalid = new Counter("jwt_invalid");

class AuthzRoot extends RootContext {
  config: AuthzConfig = new AuthzConfig();

  onConfigure(config: string): bool {
    const c = parseAuthzConfig(config);
    if (c === null) {
      log.error("authz: invalid configuration: " + lastConfigError());
      return false;
    }
    this.config = c;
    log.info("authz: " + c.policies.length.toString() + " policies, " + c.providers.length.toString() + " JWT providers");
    return true;
  }

  newHttpContext(id: u32): HttpContext {
    return new Authz(id, this);
  }
}

class Authz extends HttpContext {
  constructor(id: u32, readonly settings: AuthzRoot) {
    super(id, settings);
  }

  onRequestHeaders(headers: u32, endOfStream: bool): Action {
    const cfg = this.settings.config;
    const hdrs = this.request.headers;

    let auth = NO_TOKEN;
    // The raw :path, fetched once for the JWT query parameters, normalization and the rules.
    let rawPath: string | null = null;
    if (cfg.providers.length > 0) {
      const path = this.request.path;
      rawPath = path;
      const q = path.indexOf("?");
      auth = authenticate(cfg.providers, hdrs, q >= 0 ? path.substring(q + 1) : "", currentTimeMillis());
      if (auth.outcome == JwtOutcome.Invalid) return this.rejectToken(auth.reason);
      if (auth.outcome == JwtOutcome.Valid) {
        const loc = auth.location!;
        if (loc.isHeader && !auth.provider!.forwardOriginalToken) hdrs.remove(loc.header);
      }
    }
    if (cfg.policies.length == 0) {
      allowed.increment();
      return Action.Continue;
    }

    if (cfg.pathNormalization != PathNormalization.None) {
      // Match, and forward, the normalized path (see path.ts).
      const raw = rawPath !== null ? rawPath : this.request.path;
      const norm = normalizePath(raw, cfg.pathNormalization);
      if (norm != raw) {
        if (log.enabled(LogLevel.Debug)) log.debug("authz: path " + raw + " normalized to " + norm);
        hdrs.set(":path", norm);
      }
      rawPath = norm;
    }
    const req = new RequestView(hdrs, auth, rawPath);
    const policies = cfg.policies;
    if (cfg.hasDeny) {
      for (let i = 0; i < policies.length; i++) {
        const p = policies[i];
        if (p.action != PolicyAction.Deny) continue;
        const rule = matchPolicy(p, req);
        if (rule >= 0) return this.deny(p.name, rule, req);
      }
    }
    if (cfg.hasAudit) {
      let any = false;
      for (let i = 0; i < policies.length; i++) {
        const p = policies[i];
        if (p.action != PolicyAction.Audit) continue;
        const rule = matchPolicy(p, req);
        if (rule < 0) continue;
        any = true;
        log.info("authz: AUDIT policy \"" + p.name + "\" rule " + rule.toString() + " matched " + describe(req));
      }
      if (any) audited.increment();
    }
    if (cfg.hasAllow) {
      for (let i = 0; i < policies.length; i++) {
        const p = policies[i];
        if (p.action != PolicyAction.Allow) continue;
        const rule = matchPolicy(p, req);
        if (rule >= 0) {
          if (log.enabled(LogLevel.Debug)) log.debug("authz: allowed by " + actionName(p.action) + " policy \"" + p.name + "\" rule " + rule.toString());
          allowed.increment();
          return Action.Continue;
        }
      }
      return this.deny("", -1, req);
    }
    allowed.increment();
    return Action.Continue;
  }

  /** 403 RBAC: access denied, flag UAEX. `policy` is empty when no ALLOW policy matched. */
  private deny(policy: string, rule: i32, req: RequestView): Action {
    denied.increment();
    const details = policy.length > 0
      ? "rbac_access_denied_matched_policy[" + policy + "]"
      : "rbac_access_denied_matched_policy[none]";
    if (log.enabled(LogLevel.Debug)) {
      const why = policy.length > 0 ? "DENY policy \"" + policy + "\" rule " + rule.toString() : "no ALLOW policy matched";
      log.debug("authz: denied (" + why + ") " + describe(req));
    }
    setFlag("UAEX");
    const headers: HeaderPair[] = [new HeaderPair("content-type", "text/plain")];
    this.sendLocalResponse(403, "RBAC: access denied", headers, details);
    return Action.Pause;
  }

  /** 401 with a Bearer challenge (RFC 6750), flag UAEX. */
  private rejectToken(reason: string): Action {
    jwtInvalid.increment();
    log.debug("authz: invalid JWT: " + reason);
    const path = this.request.path;
    const q = path.indexOf("?");
    const realm = "http://" + this.request.authority + (q >= 0 ? path.substring(0, q) : path);
    setFlag("UAEX");
    const headers: HeaderPair[] = [
      new HeaderPair("www-authenticate", "Bearer realm=\"" + sanitize(realm) + "\", error=\"invalid_token\""),
      new HeaderPair("content-type", "text/plain"),
    ];
    this.sendLocalResponse(401, "Jwt verification fails", headers, "jwt_authn_access_denied{" + reason.replaceAll(" ", "_") + "}");
    return Action.Pause;
  }
}

/** Drops characters that cannot appear inside a quoted header parameter. */
function sanitize(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c != 34 && c != 92) out += String.fromCharCode(c);
  }
  return out;
}

function describe(req: RequestView): string {
  return req.method + " " + req.path + " host=" + req.host + (req.authenticated ? " principal=" + req.auth.principal : "");
}

function setFlag(flag: string): void {
  callForeignFunction("wasmesh.set_flag", String.UTF8.encode(flag));
}

registerRoot("", (id: u32): RootContext => new AuthzRoot(id));
