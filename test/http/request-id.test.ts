import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { requestId } from '../../runtime/http/request-id';

test('request ids are RFC 4122 version 4 UUIDs and do not repeat across pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const id = requestId();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 5000);
});
