// Function indices outside function bodies. The instrumenter appends its own
// functions (the fuel setter, the grow hooks) after the module's, so an
// invalid module naming an index just past its own functions would become
// valid once instrumented, and reach them: the fuel setter placed in a table
// is a budget refill through call_indirect. Every function index a module
// can hold is therefore range-checked against its own count: here the table
// initialisers, element segments and the start function; code bodies in
// opcodes.ts, global initialisers and exports where instrument.ts rewrites
// them. Type indices need no such care, an appended type grants nothing;
// instrument.ts checks those of functions and function imports anyway, where
// it reads them, but not the type immediates in code (call_indirect, block
// types): there an index past the module's types stays unchecked.
import { skipConstExpr } from './opcodes';
import { malformed, Reader } from './reader';
import { readLimits, skipValType } from './types';

function checkFunc(idx: number, funcCount: number, what: string, at: number): void {
  if (idx >= funcCount) malformed(`function index ${idx} out of range (the module has ${funcCount} functions) in ${what}`, at);
}

/** table ::= reftype limits | 0x40 0x00 reftype limits expr (function references: a table with an initialiser). */
export function checkTableSection(r: Reader, funcCount: number): void {
  const n = r.u32('table count');
  for (let i = 0; i < n; i++) {
    let init = false;
    if (r.pos < r.end && r.bytes[r.pos] === 0x40) {
      const at = r.pos;
      r.pos++;
      if (r.u8('table initialiser marker') !== 0x00) malformed('invalid table initialiser marker', at);
      init = true;
    }
    skipValType(r);
    readLimits(r, 'table');
    if (init) skipConstExpr(r, 'table initialiser', funcCount);
  }
  r.expectEnd('table section');
}

/**
 * Flags bit 0: passive or declarative; bit 1: an explicit table index (if
 * active) or declarative (if not); bit 2: expressions instead of indices.
 * Bits 0-1 nonzero: an elemkind (indices) or a reftype (expressions) follows.
 */
export function checkElementSection(r: Reader, funcCount: number): void {
  const n = r.u32('element segment count');
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const flags = r.u32('element segment flags');
    if (flags > 7) malformed(`invalid element segment flags ${flags}`, at);
    if ((flags & 1) === 0) {
      if (flags & 2) r.u32('element segment table index');
      skipConstExpr(r, 'element segment offset', funcCount);
    }
    if (flags & 4) {
      if (flags & 3) skipValType(r);
      const count = r.u32('element expression count');
      for (let k = 0; k < count; k++) skipConstExpr(r, 'element expression', funcCount);
    } else {
      if (flags & 3) {
        const kAt = r.pos;
        if (r.u8('element kind') !== 0x00) malformed('invalid element kind', kAt);
      }
      const count = r.u32('element function count');
      for (let k = 0; k < count; k++) {
        const fAt = r.pos;
        checkFunc(r.u32('element function index'), funcCount, 'an element segment', fAt);
      }
    }
  }
  r.expectEnd('element section');
}

export function checkStartSection(r: Reader, funcCount: number): void {
  const at = r.pos;
  checkFunc(r.u32('start function index'), funcCount, 'the start section', at);
  r.expectEnd('start section');
}
