export type { ApplyMeta, ConfigStore, Snapshot, VersionInfo } from './types';
export { StoreError, type StoreErrorCode } from './errors';
export { FileStore, DEFAULT_RETAIN, HISTORY_DIR, INDEX_FILE, type FileStoreOptions } from './file-store';
export { LOCK_FILE } from './lock';
export { loadOrCreateToken, tokensEqual, TOKEN_FILE, type LoadedToken } from './token';
