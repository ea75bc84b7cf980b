import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Problems, Value, type Locator } from '../../runtime/config/validator';
import { editDistance, suggest } from '../../runtime/config/suggest';
import { joinIndex, joinKey } from '../../runtime/config/path';

function read<T>(raw: unknown, fn: (v: Value) => T, locate?: Locator): { result: T; problems: string[] } {
  const problems = new Problems(locate);
  const result = fn(Value.root(raw, problems));
  return { result, problems: problems.format(locate ? 'x.yaml' : undefined) };
}

test('paths: identifiers join with dots, other keys are quoted', () => {
  assert.equal(joinKey('', 'clusters'), 'clusters');
  assert.equal(joinKey(joinIndex('clusters', 1), 'lb'), 'clusters[1].lb');
  assert.equal(joinKey('labels', 'app.kubernetes.io/name'), 'labels["app.kubernetes.io/name"]');
  assert.equal(joinKey('m', ''), 'm[""]');
  assert.equal(joinKey('h', 'x-user'), 'h.x-user');
});

test('scalars: type and range errors name the path and the value', () => {
  const { result, problems } = read({ s: 5, i: 1.5, j: '10', k: 0, b: 'yes', e: 'x', d: 1500, z: 'big', n: null, empty: '' }, (v) =>
    v.object((f) => ({
      s: f.optional('s').string(),
      i: f.optional('i').int(),
      j: f.optional('j').int(),
      k: f.optional('k').int({ min: 1 }),
      b: f.optional('b').bool(),
      e: f.optional('e').oneOf(['a', 'b'], 'mode'),
      d: f.optional('d').duration(),
      z: f.optional('z').size(),
      n: f.optional('n').string(),
      empty: f.optional('empty').string({ nonEmpty: true }),
      missing: f.optional('missing').int(),
    })),
  );
  assert.deepEqual(result, {
    s: undefined, i: undefined, j: undefined, k: undefined, b: undefined, e: undefined,
    d: undefined, z: undefined, n: undefined, empty: undefined, missing: undefined,
  });
  assert.deepEqual(problems, [
    's: expected a string, got number 5',
    'i: expected an integer, got number 1.5',
    'j: expected an integer, got string "10"',
    'k: must be at least 1, got 0',
    'b: expected true or false, got string "yes"',
    'e: unknown mode "x" (expected one of a, b)',
    'd: a duration needs a unit, like "1500s" or "1500ms" (plain numbers are not accepted)',
    'z: invalid size "big" (expected a number with a unit B, KiB, MiB, GiB, KB, MB or GB, like "60KiB")',
    'empty: must not be empty',
  ]);
});

test('ranges are shown in the unit of the value', () => {
  const { problems } = read({ a: '0s', b: '2h', c: '2KiB', d: 150 }, (v) =>
    v.object((f) => [
      f.optional('a').duration({ min: 1 }),
      f.optional('b').duration({ max: 3_600_000 }),
      f.optional('c').size({ max: 1024 }),
      f.optional('d').int({ min: 0, max: 100 }),
    ]),
  );
  assert.deepEqual(problems, [
    'a: must be at least 1ms, got 0ms',
    'b: must be at most 1h, got 2h',
    'c: must be at most 1KiB, got 2KiB',
    'd: must be between 0 and 100, got 150',
  ]);
});

test('required fields, unknown fields with suggestions, nested paths', () => {
  const raw = { items: [{ name: 'a', timout: '1s' }, { nmae: 'b', connect_timeout: '1s', zzz: 1 }, 'oops', { name: null }] };
  const { result, problems } = read(raw, (v) =>
    v.object((f) =>
      f.required('items').list((item) =>
        item.object((g) => ({
          name: g.required('name').string(),
          timeout: g.optional('timeout').duration(),
          connectTimeout: g.optional('connectTimeout').duration(),
        })),
      ),
    ),
  );
  assert.deepEqual(result, [
    { name: 'a', timeout: undefined, connectTimeout: undefined },
    { name: undefined, timeout: undefined, connectTimeout: undefined },
    { name: undefined, timeout: undefined, connectTimeout: undefined },
  ]);
  assert.deepEqual(problems, [
    'items[0].timout: unknown field (did you mean "timeout"?)',
    'items[1].name: required field is missing',
    'items[1].nmae: unknown field (did you mean "name"?)',
    'items[1].connect_timeout: unknown field (did you mean "connectTimeout"?)',
    'items[1].zzz: unknown field',
    'items[2]: expected a mapping, got string "oops"',
    'items[3].name: required field is empty',
  ]);
});

test('lists, maps and JSON data', () => {
  const raw = { l: 'x', e: [], m: { 'app.kubernetes.io/name': 'web', tier: 3 }, j: { a: [1, Infinity, { b: NaN }], c: new Date(0) }, ok: { a: [1, 'x', null, true] } };
  const { result, problems } = read(raw, (v) =>
    v.object((f) => ({
      l: f.optional('l').list((i) => i.string()),
      e: f.optional('e').list((i) => i.string(), { nonEmpty: true }),
      m: f.optional('m').map((value) => value.string()),
      j: f.optional('j').json(),
      ok: f.optional('ok').json(),
    })),
  );
  assert.equal(result?.l, undefined);
  assert.deepEqual(result?.m, new Map([['app.kubernetes.io/name', 'web']]));
  assert.equal(result?.j, undefined);
  assert.deepEqual(result?.ok, { a: [1, 'x', null, true] });
  assert.deepEqual(problems, [
    'l: expected a list, got string "x"',
    'e: must not be empty',
    'm.tier: expected a string, got number 3',
    'j.a[1]: not valid JSON: numbers must be finite, got Infinity',
    'j.a[2].b: not valid JSON: numbers must be finite, got NaN',
    'j.c: expected JSON-compatible data, got a date',
  ]);
});

test('problems are sorted by line and take the nearest located ancestor line', () => {
  const lines = new Map([['', 1], ['b', 2], ['a', 5], ['a.x', 6]]);
  const { problems } = read({ a: { x: 'no', y: 'no' }, b: 'no' }, (v) =>
    v.object((f) => [
      f.optional('a').object((g) => [g.optional('x').int(), g.optional('y').int(), g.required('z')]),
      f.optional('b').int(),
    ]),
    (path) => lines.get(path),
  );
  assert.deepEqual(problems, [
    'x.yaml:2: b: expected an integer, got string "no"',
    'x.yaml:5: a.y: expected an integer, got string "no"',
    'x.yaml:5: a.z: required field is missing',
    'x.yaml:6: a.x: expected an integer, got string "no"',
  ]);
});

test('suggest: edit distance with transpositions; snake_case finds camelCase; nothing when far', () => {
  assert.equal(editDistance('timout', 'timeout'), 1);
  assert.equal(editDistance('ab', 'ba'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(suggest('timout', ['name', 'timeout', 'idleTimeout']), 'timeout');
  assert.equal(suggest('max_connections', ['maxConnections', 'maxPendingRequests']), 'maxConnections');
  assert.equal(suggest('Endpoints', ['endpoints']), 'endpoints');
  assert.equal(suggest('lp', ['lb']), 'lb');
  assert.equal(suggest('banana', ['name', 'lb', 'timeout']), undefined);
});
