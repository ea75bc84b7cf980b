// Base64url (RFC 4648 §5), as used by JWT and JWK: alphabet `A-Z a-z 0-9 - _`,
// no padding on output; padding is accepted on input.

// @ts-ignore: decorator
@lazy const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function decodeChar(c: u32): i32 {
  if (c >= 65 && c <= 90) return <i32>c - 65; // A-Z
  if (c >= 97 && c <= 122) return <i32>c - 71; // a-z
  if (c >= 48 && c <= 57) return <i32>c + 4; // 0-9
  if (c == 45) return 62; // -
  if (c == 95) return 63; // _
  return -1;
}

export namespace base64url {
  /** Encodes bytes, without padding. */
  export function encode(data: ArrayBuffer): string {
    const src = changetype<usize>(data);
    const n = data.byteLength;
    const outLen = (n / 3) * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
    const out = changetype<string>(__new(<usize>outLen << 1, idof<string>()));
    const dst = changetype<usize>(out);
    const abc = changetype<usize>(ALPHABET);
    let o: usize = 0;
    let i = 0;
    for (; i + 3 <= n; i += 3) {
      const v = (<u32>load<u8>(src + i) << 16) | (<u32>load<u8>(src + i + 1) << 8) | <u32>load<u8>(src + i + 2);
      store<u16>(dst + (o++ << 1), load<u16>(abc + ((v >> 18) << 1)));
      store<u16>(dst + (o++ << 1), load<u16>(abc + (((v >> 12) & 63) << 1)));
      store<u16>(dst + (o++ << 1), load<u16>(abc + (((v >> 6) & 63) << 1)));
      store<u16>(dst + (o++ << 1), load<u16>(abc + ((v & 63) << 1)));
    }
    const rest = n - i;
    if (rest > 0) {
      let v = <u32>load<u8>(src + i) << 16;
      if (rest == 2) v |= <u32>load<u8>(src + i + 1) << 8;
      store<u16>(dst + (o++ << 1), load<u16>(abc + ((v >> 18) << 1)));
      store<u16>(dst + (o++ << 1), load<u16>(abc + (((v >> 12) & 63) << 1)));
      if (rest == 2) store<u16>(dst + (o++ << 1), load<u16>(abc + (((v >> 6) & 63) << 1)));
    }
    return out;
  }

  /** Encodes a string's UTF-8 bytes. */
  export function encodeString(text: string): string {
    return encode(String.UTF8.encode(text));
  }

  /**
   * Decodes base64url (trailing `=` padding allowed). Returns null for any
   * character outside the alphabet, a misplaced `=`, an impossible length, or
   * non-zero unused bits in the last character (non-canonical input).
   */
  export function decode(text: string): ArrayBuffer | null {
    let len = text.length;
    // strip up to two '=' of padding, only at the end
    if (len > 0 && text.charCodeAt(len - 1) == 61) {
      len--;
      if (len > 0 && text.charCodeAt(len - 1) == 61) len--;
      if ((len + (text.length - len)) % 4 != 0) return null;
    }
    const rem = len % 4;
    if (rem == 1) return null;
    const outLen = (len / 4) * 3 + (rem == 0 ? 0 : rem - 1);
    const out = new ArrayBuffer(outLen);
    const dst = changetype<usize>(out);
    const src = changetype<usize>(text);
    let o: usize = 0;
    let i = 0;
    for (; i + 4 <= len; i += 4) {
      const a = decodeChar(load<u16>(src + (<usize>i << 1)));
      const b = decodeChar(load<u16>(src + (<usize>(i + 1) << 1)));
      const c = decodeChar(load<u16>(src + (<usize>(i + 2) << 1)));
      const d = decodeChar(load<u16>(src + (<usize>(i + 3) << 1)));
      if ((a | b | c | d) < 0) return null;
      const v = (<u32>a << 18) | (<u32>b << 12) | (<u32>c << 6) | <u32>d;
      store<u8>(dst + o++, <u8>(v >> 16));
      store<u8>(dst + o++, <u8>(v >> 8));
      store<u8>(dst + o++, <u8>v);
    }
    if (rem > 0) {
      const a = decodeChar(load<u16>(src + (<usize>i << 1)));
      const b = decodeChar(load<u16>(src + (<usize>(i + 1) << 1)));
      const c = rem == 3 ? decodeChar(load<u16>(src + (<usize>(i + 2) << 1))) : 0;
      if ((a | b | c) < 0) return null;
      // canonical form only: the unused low bits must be zero
      if (rem == 2 ? (b & 15) != 0 : (c & 3) != 0) return null;
      const v = (<u32>a << 18) | (<u32>b << 12) | (<u32>c << 6);
      store<u8>(dst + o++, <u8>(v >> 16));
      if (rem == 3) store<u8>(dst + o++, <u8>(v >> 8));
    }
    return out;
  }

  /** Decodes to bytes and then UTF-8; null when the input is not base64url. */
  export function decodeString(text: string): string | null {
    const b = decode(text);
    return b === null ? null : String.UTF8.decode(b);
  }
}
