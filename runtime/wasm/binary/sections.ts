// Splits a module into its sections and checks the framing: magic, version,
// known ids, sizes within bounds, and the order the spec requires. Section
// payloads are left undecoded; callers parse only what they need.
import { malformed, Reader } from './reader';

export const SEC_CUSTOM = 0;
export const SEC_TYPE = 1;
export const SEC_IMPORT = 2;
export const SEC_FUNCTION = 3;
export const SEC_TABLE = 4;
export const SEC_MEMORY = 5;
export const SEC_GLOBAL = 6;
export const SEC_EXPORT = 7;
export const SEC_START = 8;
export const SEC_ELEMENT = 9;
export const SEC_CODE = 10;
export const SEC_DATA = 11;
export const SEC_DATA_COUNT = 12;
export const SEC_TAG = 13;

export const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount', 'tag'];

// Required order of the non-custom sections: the tag section (exception
// handling) sits between memory and global, datacount between element and code.
const ORDER = [SEC_TYPE, SEC_IMPORT, SEC_FUNCTION, SEC_TABLE, SEC_MEMORY, SEC_TAG, SEC_GLOBAL, SEC_EXPORT, SEC_START, SEC_ELEMENT, SEC_DATA_COUNT, SEC_CODE, SEC_DATA];
const RANK: number[] = [];
ORDER.forEach((id, i) => (RANK[id] = i + 1));

/** Position of a (non-custom) section id in the required order. */
export function sectionRank(id: number): number {
  return RANK[id];
}

export interface Section {
  id: number;
  /** Offset of the id byte. */
  start: number;
  /** Offset of the first payload byte. */
  payload: number;
  /** Offset just past the payload. */
  end: number;
}

export const HEADER_SIZE = 8;

export function readSections(bytes: Uint8Array): Section[] {
  if (bytes.length < HEADER_SIZE) malformed(`module is ${bytes.length} bytes, shorter than the 8-byte header`, bytes.length);
  if (bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) malformed('bad magic number (not a wasm binary)', 0);
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    const v = bytes[4] | (bytes[5] << 8);
    const layer = bytes[6] | (bytes[7] << 8);
    malformed(layer !== 0 ? 'a component, not a core module' : `unsupported version ${v}`, 4);
  }
  const sections: Section[] = [];
  const r = new Reader(bytes, HEADER_SIZE, bytes.length);
  let lastRank = 0;
  let lastId = -1;
  while (!r.done) {
    const start = r.pos;
    const id = r.u8('section id');
    if (id > SEC_TAG) malformed(`unknown section id ${id}`, start);
    const size = r.u32(`${SECTION_NAMES[id]} section size`);
    const payload = r.pos;
    if (size > bytes.length - payload) malformed(`${SECTION_NAMES[id]} section size ${size} runs past the end of the module (${bytes.length - payload} bytes left)`, start);
    const end = payload + size;
    if (id === SEC_CUSTOM) {
      new Reader(bytes, payload, end).name('custom section name');
    } else {
      const rank = RANK[id];
      if (rank === lastRank) malformed(`duplicate ${SECTION_NAMES[id]} section`, start);
      if (rank < lastRank) malformed(`${SECTION_NAMES[id]} section out of order (after the ${SECTION_NAMES[lastId]} section)`, start);
      lastRank = rank;
      lastId = id;
    }
    sections.push({ id, start, payload, end });
    r.pos = end;
  }
  return sections;
}
