/** The result of parsing one config string: a value, or a message saying what is wrong with it. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };
