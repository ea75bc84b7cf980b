// Entry points: YAML text or a file in, a validated ProxyConfig out, or one
// ConfigError listing every problem found.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../core/errors';
import { readProxyConfig } from './proxy-config';
import type { ProxyConfig } from './types';
import { parseYaml } from './yaml';
import { describe, formatProblem, isPlainObject, Problems, Value } from './validator';

/**
 * Parse and validate a proxy config. `source` (usually the file name) prefixes
 * each problem as `source:line: `; without it problems carry only their path.
 * @throws ConfigError with every problem found.
 */
export function parseProxyConfig(text: string, source?: string): ProxyConfig {
  const parsed = parseYaml(text);
  if (!parsed.ok) throw new ConfigError(parsed.problems.map((p) => formatProblem(p, source)), source);
  if (parsed.value === null || parsed.value === undefined) {
    throw new ConfigError([formatProblem({ path: '', message: 'the config is empty (it needs at least "listeners")' }, source)], source);
  }
  if (!isPlainObject(parsed.value)) {
    const line = parsed.locate('');
    const message = `the top level must be a mapping (with "listeners", "clusters", ...), got ${describe(parsed.value)}`;
    throw new ConfigError([formatProblem(line === undefined ? { path: '', message } : { path: '', message, line }, source)], source);
  }
  const problems = new Problems(parsed.locate);
  const config = readProxyConfig(Value.root(parsed.value, problems));
  if (problems.size > 0 || config === undefined) throw new ConfigError(problems.format(source), source);
  return config;
}

/**
 * Validate a config already in memory as plain JSON-like data (a control
 * plane's push): no text step, so no line numbers; problems carry their path.
 * @throws ConfigError with every problem found.
 */
export function readProxyConfigValue(value: unknown, source?: string): ProxyConfig {
  if (!isPlainObject(value)) {
    throw new ConfigError([formatProblem({ path: '', message: `the top level must be a mapping (with "listeners", "clusters", ...), got ${describe(value)}` }, source)], source);
  }
  const problems = new Problems(() => undefined);
  const config = readProxyConfig(Value.root(value, problems));
  if (problems.size > 0 || config === undefined) throw new ConfigError(problems.format(source), source);
  return config;
}

/** `builtin:NAME` and `sha256:HEX` name a module; anything else is a path. */
export function isNamedModule(module: string): boolean {
  return module.startsWith('builtin:') || module.startsWith('sha256:');
}

/**
 * Read, parse and validate a config file; problems are prefixed `path:line: `.
 * @throws ConfigError, also when the file cannot be read.
 */
export function loadProxyConfigFile(path: string): ProxyConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new ConfigError([`${path}: cannot read config file: ${why}`], path);
  }
  const config = parseProxyConfig(text, path);
  // Module paths are relative to the config file, like every path an operator writes in it.
  for (const l of config.listeners) {
    for (const f of l.filters) if (!isNamedModule(f.module)) f.module = resolve(dirname(path), f.module);
  }
  return config;
}
