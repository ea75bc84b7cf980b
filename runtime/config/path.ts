// Config paths in the style users see in errors: `clusters[1].healthCheck.path`.
// Keys that are not plain identifiers are quoted: `labels["app.kubernetes.io/name"]`.
// The YAML position index (yaml.ts) and the reader (validator.ts) both build
// paths with these two functions, so a path always finds its line.

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function joinKey(parent: string, key: string): string {
  if (PLAIN_KEY.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

export function joinIndex(parent: string, index: number): string {
  return `${parent}[${index}]`;
}
