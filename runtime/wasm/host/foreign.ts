// proxy_call_foreign_function: the wasmesh.* extensions that make routing,
// retries and faults filters (docs/filter-abi.md), plus the Envoy names that
// are no-ops here so Envoy-targeted filters still load and run.
import * as crypto from 'node:crypto';
import { FLAGS } from '../../stats/declared';
import { WasmResult } from '../abi';
import type { PluginVm } from '../vm';

const OK_BYTE = Buffer.from([1]);
const NO_BYTE = Buffer.from([0]);

/** Parsed verification keys, keyed by alg and key text; JWKS rarely change. */
const keyCache = new Map<string, crypto.KeyObject | Buffer>();
const KEY_CACHE_MAX = 256;

function verificationKey(alg: string, key: string): crypto.KeyObject | Buffer {
  const id = `${alg}\0${key}`;
  let k = keyCache.get(id);
  if (k !== undefined) return k;
  if (alg === 'HS256') {
    let secret: Buffer = Buffer.from(key);
    if (key.startsWith('{')) {
      // A JSON key must be an oct JWK: using some other key's JSON text as an HMAC secret would let a forged token pass.
      const jwk = JSON.parse(key) as { kty?: string; k?: string };
      if (typeof jwk.k !== 'string' || (jwk.kty !== undefined && jwk.kty !== 'oct')) throw new Error('HS256 needs an oct JWK with "k"');
      secret = Buffer.from(jwk.k, 'base64url');
    }
    k = secret;
  } else {
    k = key.startsWith('{') ? crypto.createPublicKey({ key: JSON.parse(key) as crypto.JsonWebKey, format: 'jwk' }) : crypto.createPublicKey(key);
  }
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(id, k);
  return k;
}

/** Verifies a JWS signature; throws on a malformed key. */
export function verifySignature(alg: string, key: string, data: Buffer, sig: Buffer): boolean {
  const k = verificationKey(alg, key);
  switch (alg) {
    case 'HS256': {
      const mac = crypto.createHmac('sha256', k as Buffer).update(data).digest();
      return mac.length === sig.length && crypto.timingSafeEqual(mac, sig);
    }
    case 'RS256':
      return crypto.verify('sha256', data, k as crypto.KeyObject, sig);
    case 'ES256':
      // JWS carries ECDSA signatures as raw r||s, not DER.
      return crypto.verify('sha256', data, { key: k as crypto.KeyObject, dsaEncoding: 'ieee-p1363' }, sig);
  }
  return false;
}

/** Reads `count` u32-length-prefixed fields; null if they do not fit exactly. */
function fields(b: Buffer, count: number): Buffer[] | null {
  const out: Buffer[] = [];
  let o = 0;
  for (let i = 0; i < count; i++) {
    if (o + 4 > b.length) return null;
    const n = b.readUInt32LE(o);
    o += 4;
    if (o + n > b.length) return null;
    out.push(b.subarray(o, o + n));
    o += n;
  }
  return o === b.length ? out : null;
}

export function foreignImports(vm: PluginVm): Record<string, Function> {
  const mem = vm.mem;
  const flags = new Set(FLAGS);

  /** Runs one foreign function; returns the result bytes (or null for none) or a WasmResult error. */
  function run(name: string, args: Buffer): Buffer | null | WasmResult {
    if (name === 'clear_route_cache' || name === 'declare_property') return null;
    if (name === 'wasmesh.verify_signature') {
      const f = fields(args, 4);
      if (f === null) return WasmResult.BadArgument;
      try {
        return verifySignature(f[0]!.toString(), f[1]!.toString(), f[2]!, f[3]!) ? OK_BYTE : NO_BYTE;
      } catch {
        return WasmResult.BadArgument;
      }
    }
    const filter = vm.effective;
    if (filter === null) return name.startsWith('wasmesh.') ? WasmResult.NotFound : WasmResult.Unimplemented;
    const s = filter.stream;
    switch (name) {
      case 'wasmesh.set_cluster': {
        const text = args.toString();
        const nul = text.indexOf('\0');
        const cluster = nul < 0 ? text : text.slice(0, nul);
        if (!s.hasCluster(cluster)) return WasmResult.NotFound;
        s.route.cluster = cluster;
        s.route.hashKey = nul < 0 ? null : text.slice(nul + 1);
        return null;
      }
      case 'wasmesh.set_timeouts':
        if (args.length !== 8) return WasmResult.BadArgument;
        if (args.readUInt32LE(0) > 0) s.route.timeoutMs = args.readUInt32LE(0);
        if (args.readUInt32LE(4) > 0) s.route.perTryTimeoutMs = args.readUInt32LE(4);
        return null;
      case 'wasmesh.keep_request_body':
        if (args.length !== 4) return WasmResult.BadArgument;
        s.keepRequestBody(args.readUInt32LE(0));
        return null;
      case 'wasmesh.retry':
        if (args.length !== 4) return WasmResult.BadArgument;
        return s.retry(args.readUInt32LE(0)) ? null : WasmResult.BadArgument;
      case 'wasmesh.delay':
        if (args.length !== 4) return WasmResult.BadArgument;
        s.delay(args.readUInt32LE(0));
        return null;
      case 'wasmesh.set_flag': {
        const flag = args.toString();
        // "" means "no flag": a redirect or direct response is not a failure.
        if (flag !== '' && !flags.has(flag)) return WasmResult.BadArgument;
        filter.flag = flag;
        if (flag !== '') s.setFlag(flag);
        return null;
      }
    }
    return WasmResult.NotFound;
  }

  return {
    proxy_call_foreign_function(nPtr: number, nLen: number, aPtr: number, aLen: number, retPtr: number, retSize: number): number {
      if (!mem.inBounds(nPtr, nLen) || !mem.inBounds(aPtr, aLen)) return WasmResult.InvalidMemoryAccess;
      const r = run(mem.string(nPtr, nLen), mem.peek(aPtr, aLen));
      if (typeof r === 'number') return r;
      if (r === null) {
        mem.setU32(retPtr, 0);
        mem.setU32(retSize, 0);
        return WasmResult.Ok;
      }
      return mem.give(r, retPtr, retSize) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}
