// Istio's string matching for AuthorizationPolicy fields: exact, prefix
// ("abc*"), suffix ("*abc") and presence ("*": any non-empty value).

export const enum MatchKind {
  Exact = 0,
  Prefix = 1,
  Suffix = 2,
  Any = 3,
}

export class StringMatcher {
  readonly kind: MatchKind;
  readonly value: string;

  /** @param ignoreCase compare ASCII case-insensitively (hosts) */
  constructor(pattern: string, readonly ignoreCase: bool = false) {
    const p = ignoreCase ? pattern.toLowerCase() : pattern;
    if (p == "*") {
      this.kind = MatchKind.Any;
      this.value = "";
    } else if (p.length > 1 && p.endsWith("*")) {
      this.kind = MatchKind.Prefix;
      this.value = p.substring(0, p.length - 1);
    } else if (p.length > 1 && p.startsWith("*")) {
      this.kind = MatchKind.Suffix;
      this.value = p.substring(1);
    } else {
      this.kind = MatchKind.Exact;
      this.value = p;
    }
  }

  matches(input: string): bool {
    const s = this.ignoreCase ? input.toLowerCase() : input;
    switch (this.kind) {
      case MatchKind.Any: return s.length > 0;
      case MatchKind.Prefix: return s.startsWith(this.value);
      case MatchKind.Suffix: return s.endsWith(this.value);
      default: return s == this.value;
    }
  }
}

/** True when any matcher matches `input`. */
export function anyMatches(matchers: StringMatcher[], input: string): bool {
  for (let i = 0; i < matchers.length; i++) {
    if (unchecked(matchers[i]).matches(input)) return true;
  }
  return false;
}

/** True when any matcher matches any of `inputs`. */
export function anyMatchesAny(matchers: StringMatcher[], inputs: string[]): bool {
  for (let i = 0; i < inputs.length; i++) {
    if (anyMatches(matchers, unchecked(inputs[i]))) return true;
  }
  return false;
}

export function toMatchers(patterns: string[], ignoreCase: bool = false): StringMatcher[] {
  const out = new Array<StringMatcher>(patterns.length);
  for (let i = 0; i < patterns.length; i++) out[i] = new StringMatcher(patterns[i], ignoreCase);
  return out;
}

/** True when `list` contains `s` exactly. */
export function containsExact(list: string[], s: string): bool {
  for (let i = 0; i < list.length; i++) {
    if (unchecked(list[i]) == s) return true;
  }
  return false;
}
