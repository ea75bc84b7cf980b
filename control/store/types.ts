// The control plane's config store: the numbered history of the whole mesh config.
// The embedded default is FileStore (file-store.ts); a store shared by several
// control-plane replicas can later implement the same interface.

/** Metadata of one version, without its content. */
export interface VersionInfo {
  /** 1, 2, 3, ... Never reused, not even after a rollback or once retention dropped it. */
  version: number;
  /** Hex sha256 of `content` (UTF-8). */
  sha256: string;
  /** ISO 8601, UTC. */
  createdAt: string;
  /** Who applied it ('' when unknown). */
  author: string;
  /** Why ('' when none given). */
  message: string;
  /** Set when this version was created by rollback(): the version whose content it restores. */
  rollbackOf?: number;
  /** Size of `content` in bytes (UTF-8). */
  size: number;
}

/** One version with its content: the full multi-document YAML of the mesh at that version. */
export interface Snapshot extends VersionInfo {
  content: string;
}

export interface ApplyMeta {
  author?: string;
  message?: string;
}

export interface ConfigStore {
  /** The newest version, or null while the store is empty. */
  current(): Promise<Snapshot | null>;
  /**
   * Commits `documents` (the full multi-document YAML of the mesh after the change) as a new
   * version, atomically: when the promise resolves the version is durable; when it rejects,
   * nothing changed. Validation of the YAML is the caller's business. Every call creates a
   * version, even when the content equals the current one.
   */
  apply(documents: string, meta?: ApplyMeta): Promise<Snapshot>;
  /** Retained versions, newest first, at most `limit` of them. */
  history(limit?: number): Promise<VersionInfo[]>;
  /** One retained version, or null when it does not exist (or retention dropped it). */
  get(version: number): Promise<Snapshot | null>;
  /**
   * Creates a NEW version whose content equals `version`'s (as `kubectl rollout undo` does).
   * Without `version`: the retained version just before the current one.
   * Throws STORE_NOT_FOUND when there is no such version.
   */
  rollback(version?: number, meta?: ApplyMeta): Promise<Snapshot>;
  /** Waits for a running apply, releases the lock. Idempotent. */
  close(): Promise<void>;
}
